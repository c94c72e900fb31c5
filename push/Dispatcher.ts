import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { type Ack, type ClientMessageName, clientMessages } from '../protocol/src/index.ts';
import type { Handler, HandlerTable } from './handlers/Handler.ts';
import type { ClientSocket, HandlerContext } from './SocketSession.ts';
import { detach } from '../common/detach.ts';

export type Outcome = (socket: ClientSocket, event: string, code: string, answer?: unknown) => void;

const BEFORE_JOIN = new Set<string>(['getRouterRtpCapabilities', 'join']);

/**
 * The edge of the protocol: every message is rate-limited, validated against its schema and
 * routed to its handler; every outcome is acknowledged. A message without an ack function
 * that fails is answered with a `protocolError` event instead.
 */
export class Dispatcher {
  readonly #limiter = new RateLimiterMemory({ points: 100, duration: 1 });

  private readonly handlers: HandlerTable;
  private readonly logger: Logger;
  private readonly onOutcome?: Outcome;
  /** `onOutcome` hears every message's outcome: 'ok' (with the answer) or the error code answered (metrics). */
  constructor(handlers: HandlerTable, logger: Logger, onOutcome?: Outcome) {
    this.handlers = handlers;
    this.logger = logger;
    this.onOutcome = onOutcome;
  }

  attach(socket: ClientSocket, context: HandlerContext): void {
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (reply: Ack<unknown>) => void) : undefined;
      detach(this.logger, `handling ${event}`, this.#dispatch(socket, context, event, args[0], ack));
    });
  }

  async #dispatch(socket: ClientSocket, context: HandlerContext, event: string, payload: unknown, ack?: (reply: Ack<unknown>) => void): Promise<void> {
    try {
      await this.#limiter.consume(socket.id).catch(() => {
        throw new AppError('rate_limited', 'too many messages; slow down');
      });
      if (!Object.hasOwn(clientMessages, event)) throw new AppError('unknown_event', `unknown message "${event}"`);
      const name = event as ClientMessageName;
      const parsed = clientMessages[name].safeParse(payload ?? {});
      if (!parsed.success) {
        throw new AppError(
          'validation_failed',
          `invalid ${name} payload`,
          parsed.error.issues.map((i) => ({ path: `/${i.path.join('/')}`, message: i.message })),
        );
      }
      if (!socket.data.joined && !BEFORE_JOIN.has(name)) throw new AppError('bad_request', `join before sending ${name}`);
      const handler = this.handlers[name] as Handler<typeof name>;
      const data = await handler(context, parsed.data as never);
      this.onOutcome?.(socket, name, 'ok', data);
      ack?.({ ok: true, data });
    } catch (error) {
      const appError = error instanceof AppError ? error : undefined;
      if (!appError) context.logger.error({ err: error, event }, 'handler failed');
      const body = appError
        ? { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) }
        : { code: 'internal', message: 'internal error' };
      this.onOutcome?.(socket, event, body.code);
      if (ack) ack({ ok: false, error: body });
      else socket.emit('protocolError', { event, ...body });
    }
  }
}
