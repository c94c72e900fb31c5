import type { Logger } from './logger.ts';

/**
 * Starts work that nobody awaits (a hang-up after a timer, a notice to another tier). Its failure
 * is logged here, so a dropped promise can never become an unhandled rejection. Lint forbids
 * `void promise` in product code, so every fire-and-forget call in it goes through this.
 */
export function detach(logger: Pick<Logger, 'warn'>, what: string, work: PromiseLike<unknown> | (() => PromiseLike<unknown>)): void {
  let promise: PromiseLike<unknown>;
  try {
    promise = typeof work === 'function' ? work() : work;
  } catch (error) {
    logger.warn({ err: error }, `${what} failed`);
    return;
  }
  Promise.resolve(promise).catch((error: unknown) => logger.warn({ err: error }, `${what} failed`));
}
