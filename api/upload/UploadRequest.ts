import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors.ts';
import { UploadWatch } from './UploadWatch.ts';

export interface UploadLimits {
  /** An upload with no byte for this long is ended with 408. */
  idleMs: number;
  /** An upload not finished after this long is ended with 408. */
  totalMs: number;
  /** The most a refused upload's body is read to its end so that its client hears why. */
  drainBytes: number;
  /** The largest file; read per request, so that a live change of FILES_MAX_BYTES applies to the next upload. */
  maxBytes: number;
}

const gone = () => new AppError('upload_incomplete', 'the client went away before the end of the upload');

/**
 * The HTTP side of one upload: its multipart file part, the watch that ends it when its client
 * stalls or hangs up, and what to do with the rest of the body after a refusal. The upload
 * itself (quota, storage, checks) is FileService's; this knows only about the request.
 */
export class UploadRequest {
  readonly watch: UploadWatch;
  readonly #request: FastifyRequest;
  readonly #limits: UploadLimits;
  #file?: Readable;
  #bytesRead: number;
  readonly #onClose = () => {
    if (this.clientGone()) this.watch.cancel(gone());
  };

  constructor(request: FastifyRequest, limits: UploadLimits) {
    this.#request = request;
    this.#limits = limits;
    this.#bytesRead = request.raw.socket?.bytesRead ?? 0;
    this.watch = new UploadWatch({ idleMs: limits.idleMs, totalMs: limits.totalMs, clientActive: () => this.#clientActive() });
    request.raw.once('close', this.#onClose);
  }

  /** The body's length when the client declared one: the file is no larger. */
  get declaredBytes(): number | null {
    const declared = Number(this.#request.headers['content-length']);
    return Number.isSafeInteger(declared) && declared > 0 ? declared : null;
  }

  async open(): Promise<{ name: string; stream: Readable }> {
    // The multipart parser's own cap, one byte past the limit so the storage layer sees the
    // excess and answers 413; per request, because the plugin's options are fixed at start.
    const part = await this.#request.file({ limits: { fileSize: this.#limits.maxBytes + 1 } });
    if (!part) throw new AppError('bad_request', 'no file in the upload');
    this.#file = part.file;
    return { name: part.filename, stream: part.file };
  }

  /** The client hung up before the end of its body. */
  clientGone(): boolean {
    const raw = this.#request.raw;
    return !raw.complete && (raw.destroyed || raw.socket?.destroyed === true);
  }

  /**
   * What to answer for `error`. A client that hung up mid-body is an ordinary event, not a
   * server fault: whatever the multipart parser made of the cut-off body, it is a client error.
   */
  refusal(error: unknown): unknown {
    if (this.clientGone() && !(error instanceof AppError && error.status < 500)) return gone();
    return error;
  }

  /**
   * After a refusal before the end of the body: reads (and drops) the rest, when it is no larger
   * than an upload may be, so that the client, still sending, hears the answer instead of a
   * reset connection. The watch still ends a client that stalls meanwhile.
   */
  async drain(): Promise<void> {
    const raw = this.#request.raw;
    if (raw.complete || this.clientGone() || this.watch.signal.aborted) return;
    const declared = this.declaredBytes;
    if (declared === null || declared - (raw.socket?.bytesRead ?? 0) > this.#limits.drainBytes) return;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      raw.once('end', done);
      raw.once('close', done);
      this.watch.signal.addEventListener('abort', done, { once: true });
      this.#file?.resume();
      raw.resume();
    });
  }

  dispose(): void {
    this.watch.stop();
    this.#request.raw.off('close', this.#onClose);
  }

  #clientActive(): boolean {
    const raw = this.#request.raw;
    // All of the body is in: whatever is slow now is this server.
    if (raw.complete) return true;
    const now = raw.socket?.bytesRead ?? this.#bytesRead;
    const moved = now !== this.#bytesRead;
    this.#bytesRead = now;
    // Paused is the pipe's backpressure: the bytes wait on this server's side (a busy disk or
    // event loop), and a stalled client is one whose body we wait for while flowing.
    return moved || raw.readableFlowing === false || raw.readableLength > 0 || (this.#file?.readableLength ?? 0) > 0;
  }
}
