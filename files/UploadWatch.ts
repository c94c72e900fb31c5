import { AppError } from '../common/errors.ts';

/**
 * Ends an upload that has stopped coming in: no byte for `idleMs`, or not finished after
 * `totalMs`. Without it a client that opens uploads and then sends nothing holds a connection,
 * a quota hold and a temporary file for as long as it likes. `signal` aborts with an
 * {@link AppError} (`request_timeout`, or whatever `cancel` was given); `touch` on every chunk.
 */
export class UploadWatch {
  readonly #controller = new AbortController();
  readonly #idle: NodeJS.Timeout;
  readonly #total: NodeJS.Timeout;

  constructor(options: { idleMs: number; totalMs: number }) {
    this.#idle = setTimeout(() => this.cancel(new AppError('request_timeout', `the upload stalled: nothing arrived for ${options.idleMs} ms`)), options.idleMs);
    this.#total = setTimeout(() => this.cancel(new AppError('request_timeout', `the upload took longer than ${options.totalMs} ms`)), options.totalMs);
    this.#idle.unref();
    this.#total.unref();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Bytes arrived: the idle clock starts again. */
  touch(): void {
    if (!this.#controller.signal.aborted) this.#idle.refresh();
  }

  cancel(reason: AppError): void {
    this.stop();
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  stop(): void {
    clearTimeout(this.#idle);
    clearTimeout(this.#total);
  }
}
