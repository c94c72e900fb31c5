import type { Ack, ClientMessageName, ClientResults, ServerEventName, ServerEvents } from '@convene/protocol';
import { type HandshakeAuth, PROTOCOL_VERSION } from '@convene/protocol/version';
import { Manager, type Socket } from 'socket.io-client';
import { ConveneError } from './ConveneError.ts';
import { Emitter } from './Emitter.ts';
import { endpoint } from './endpoint.ts';
import { later } from './platform.ts';

export type SignallingEvents = {
  /** A connection is up (the first or a new one); `recovered` when socket.io restored the old session. */
  connect: [{ recovered: boolean }];
  /** The connection dropped; unless it was closed, socket.io (or this class) reconnects. */
  disconnect: [{ reason: string }];
  /** A handshake was refused: `code` is the server's (`token_revoked`, `unsupported_protocol`, …). */
  refused: [ConveneError];
};

export interface SignallingOptions {
  /** Push nodes in order of preference; each reconnection attempt takes the next. */
  urls: string[];
  /** Read at every handshake: the token changes to the session token after joining. */
  auth: () => Omit<HandshakeAuth, 'protocol'>;
  requestTimeoutMs?: number;
  /**
   * First wait before trying a request again after a `busy` answer (a meeting lock another
   * node held); it doubles at each of the {@link BUSY_RETRIES} tries, with jitter. Default 250.
   */
  busyRetryMs?: number;
}

/**
 * How often a `busy` request is tried again. A lock the server could not take kept the request
 * from running, or, for a join, from finishing: a repeated join takes back the seat it may have taken.
 */
export const BUSY_RETRIES = 3;

type ConnectError = Error & { data?: { code?: string; message?: string } };

/**
 * The socket.io connection: the handshake (with the protocol version), requests with their
 * acks and timeout, server events, and reconnection, rotating through the push nodes.
 */
export class Signalling extends Emitter<SignallingEvents> {
  readonly #manager: Manager;
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #busyRetryMs: number;
  #closed = false;

  constructor(options: SignallingOptions) {
    super();
    const urls = options.urls;
    if (urls.length === 0) throw new Error('no signalling URL');
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#busyRetryMs = options.busyRetryMs ?? 250;
    // A Manager without a URI builds each connection from its public `opts`, so pointing it at
    // the next push node is an options change rather than a write to its private `uri`.
    this.#manager = new Manager({
      ...endpoint(urls[0]!),
      path: '/socket.io',
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 2000,
    });
    if (urls.length > 1) {
      this.#manager.on('reconnect_attempt', (attempt) => {
        Object.assign(this.#manager.opts, endpoint(urls[attempt % urls.length]!));
      });
    }
    this.#socket = this.#manager.socket('/', {
      auth: (cb) => cb({ ...options.auth(), protocol: PROTOCOL_VERSION } satisfies HandshakeAuth),
    });
    this.#socket.on('connect', () => this.emit('connect', { recovered: this.#socket.recovered }));
    this.#socket.on('disconnect', (reason) => {
      if (this.#closed) return;
      if (reason === 'io server disconnect') {
        // The server closed us on purpose (a newer connection took the seat, or we were
        // removed); socket.io does not retry this on its own.
        later(() => {
          if (!this.#closed) this.#socket.connect();
        }, 500);
      }
      this.emit('disconnect', { reason });
    });
    this.#socket.on('connect_error', (err: ConnectError) => {
      if (err.data?.code) this.emit('refused', refusal(err));
    });
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  /** Resolves on the first connection; rejects (and closes) when the handshake is refused. */
  opened(): Promise<void> {
    const socket = this.#socket;
    if (socket.connected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onError = (err: ConnectError) => {
        socket.off('connect', onConnect);
        this.close();
        reject(refusal(err));
      };
      const onConnect = () => {
        socket.off('connect_error', onError);
        resolve();
      };
      socket.once('connect_error', onError);
      socket.once('connect', onConnect);
    });
  }

  /**
   * Sends a protocol message and waits for its ack; a refusal throws a {@link ConveneError}.
   * A `busy` answer is tried again a few times first, so that a lock held for a moment
   * elsewhere does not reach the application as a failed join.
   */
  async request<N extends ClientMessageName>(name: N, payload: unknown): Promise<ClientResults[N]> {
    for (let attempt = 0; ; attempt += 1) {
      if (this.#closed) throw new ConveneError('not_connected', 'not connected');
      const reply = (await this.#socket.timeout(this.#timeoutMs).emitWithAck(name, payload)) as Ack<ClientResults[N]>;
      if (reply.ok) return reply.data;
      if (reply.error.code !== 'busy' || attempt >= BUSY_RETRIES) {
        throw new ConveneError(reply.error.code, reply.error.message, reply.error.details);
      }
      const wait = this.#busyRetryMs * 2 ** attempt * (0.5 + Math.random());
      await new Promise<void>((resolve) => later(resolve, wait));
    }
  }

  /** Sends any event, even one outside the protocol (for testing servers' edges). */
  raw(event: string, ...args: unknown[]): Promise<unknown> {
    return this.#socket.timeout(this.#timeoutMs).emitWithAck(event, ...args);
  }

  onEvent<E extends ServerEventName>(event: E, handler: (payload: ServerEvents[E]) => void): void {
    this.#socket.on(event as string, handler as (payload: unknown) => void);
  }

  /** Kills the live connection as a network failure would; socket.io then reconnects. */
  dropTransport(): void {
    this.#manager.engine?.close();
  }

  /** Drops the connection without closing this object (a crashed tab, for tests). */
  disconnect(): void {
    this.#socket.disconnect();
  }

  close(): void {
    this.#closed = true;
    this.#socket.disconnect();
  }
}

function refusal(err: ConnectError): ConveneError {
  return new ConveneError(err.data?.code ?? 'connect_failed', err.data?.message ?? err.message, err.data);
}
