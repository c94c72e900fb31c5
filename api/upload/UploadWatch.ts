import { AppError } from '../../common/errors.ts';

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
  readonly #sampler?: NodeJS.Timeout;
  readonly #idleMs: number;
  #lastTouch = Date.now();

  /**
   * `clientActive` says whether the client sent anything since it was last asked, or has bytes
   * waiting for this server to read: then the server is the slow one (a busy disk, a busy event
   * loop, parallel uploads) and the client is not stalled.
   */
  constructor(options: { idleMs: number; totalMs: number; clientActive?: () => boolean }) {
    this.#idleMs = options.idleMs;
    this.#idle = setTimeout(() => {
      // Timers run before pending I/O: after a busy spell of this process, bytes that did
      // arrive are not read yet. Decide after the next poll phase has read them.
      setImmediate(() => {
        if (this.#controller.signal.aborted || Date.now() - this.#lastTouch < this.#idleMs) return;
        if (options.clientActive?.()) this.#idle.refresh();
        else this.cancel(new AppError('request_timeout', `the upload stalled: nothing arrived for ${options.idleMs} ms`));
      });
    }, options.idleMs);
    this.#total = setTimeout(() => this.cancel(new AppError('request_timeout', `the upload took longer than ${options.totalMs} ms`)), options.totalMs);
    // Bytes the client sends count as activity even while this server is not reading them yet.
    const { clientActive } = options;
    if (clientActive) this.#sampler = setInterval(() => clientActive() && this.touch(), Math.max(10, options.idleMs / 4));
    this.#idle.unref();
    this.#total.unref();
    this.#sampler?.unref();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Bytes arrived: the idle clock starts again. */
  touch(): void {
    if (this.#controller.signal.aborted) return;
    this.#lastTouch = Date.now();
    this.#idle.refresh();
  }

  cancel(reason: AppError): void {
    this.stop();
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  stop(): void {
    clearInterval(this.#sampler);
    clearTimeout(this.#idle);
    clearTimeout(this.#total);
  }
}
