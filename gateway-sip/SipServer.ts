import { randomBytes } from 'node:crypto';
import * as sip from 'sip';
import type { SipMessage } from 'sip';
import type { Logger } from '../common/logger.ts';
import { badRequestFor, type Flow, type SipTransport } from './SipTransport.ts';

const T1 = 500;
const T2 = 4000;
const TIMER_B = 64 * T1;

export interface ServerTransaction {
  request: SipMessage;
  flow: Flow;
  /** Sends a response; a final one ends the transaction (retransmissions get it again). */
  reply(status: number, reason: string, extension?: { headers?: Record<string, unknown>; content?: string }): SipMessage;
}

export interface SipHandler {
  onRequest(tx: ServerTransaction): void;
  /** An ACK to a 2xx, which belongs to the dialog rather than a transaction. */
  onAck(request: SipMessage, flow: Flow): void;
}

interface ServerTx extends ServerTransaction {
  last?: SipMessage;
  done: boolean;
}

/**
 * The transaction layer of RFC 3261 that a gateway needs: absorbs retransmitted requests and
 * repeats the last response, retransmits its own requests over UDP until answered, and answers
 * garbage with 400 where there is enough of it to address an answer to.
 */
export class SipServer {
  readonly #server = new Map<string, ServerTx>();
  readonly #client = new Map<string, { resolve: (m: SipMessage) => void; onProvisional?: (m: SipMessage) => void; retransmit?: NodeJS.Timeout; timeout?: NodeJS.Timeout }>();
  readonly tag = randomBytes(4).toString('hex');

  readonly transport: SipTransport;
  private readonly handler: SipHandler;
  private readonly logger: Logger;
  constructor(
    transport: SipTransport,
    handler: SipHandler,
    logger: Logger,
  ) {
    this.transport = transport;
    this.handler = handler;
    this.logger = logger;
    transport.on('message', (message, flow) => (message.method ? this.#onRequest(message, flow) : this.#onResponse(message)));
    transport.on('malformed', (raw, flow) => {
      const answer = badRequestFor(raw, 'Bad Request');
      this.logger.info({ from: `${flow.address}:${flow.port}`, answered: answer !== null }, 'malformed SIP message');
      if (answer) transport.sendRaw(answer, flow);
    });
  }

  /** Sends a request and resolves with its final response (a synthetic 408 on timeout). */
  request(message: SipMessage, flow: Flow, onProvisional?: (m: SipMessage) => void): Promise<SipMessage> {
    const branch = message.headers.via[0].params.branch as string;
    return new Promise((resolve) => {
      const entry: { resolve: (m: SipMessage) => void; onProvisional?: (m: SipMessage) => void; retransmit?: NodeJS.Timeout; timeout?: NodeJS.Timeout } = {
        resolve,
        onProvisional,
      };
      this.#client.set(branch, entry);
      this.transport.send(message, flow);
      if (flow.protocol === 'UDP') {
        let interval = T1;
        const again = () => {
          if (!this.#client.has(branch)) return;
          this.transport.send(message, flow);
          interval = message.method === 'INVITE' ? interval * 2 : Math.min(interval * 2, T2);
          entry.retransmit = setTimeout(again, interval);
        };
        entry.retransmit = setTimeout(again, interval);
      }
      entry.timeout = setTimeout(() => {
        this.#finishClient(branch);
        resolve({ status: 408, reason: 'Request Timeout', headers: {} });
      }, TIMER_B);
    });
  }

  /** A fresh Via for a request this gateway sends. */
  via(flow: Flow, host: string, port: number): Record<string, unknown> {
    return { version: '2.0', protocol: flow.protocol, host, port, params: { branch: `z9hG4bK${randomBytes(8).toString('hex')}`, rport: null } };
  }

  #onRequest(request: SipMessage, flow: Flow): void {
    const branch = String(request.headers.via[0].params?.branch ?? '');
    if (request.method === 'ACK') {
      const tx = this.#server.get(`${branch}:INVITE:${request.headers.cseq.seq}`);
      if (tx?.done && tx.last && (tx.last.status ?? 0) >= 300) return; // ACK of our error answer
      this.handler.onAck(request, flow);
      return;
    }
    // RFC 3261 matches on branch and method; the CSeq too guards against peers (sipp loops, old
    // stacks) that reuse a branch for a new request.
    const key = `${branch}:${request.method}:${request.headers.cseq.seq}`;
    const existing = this.#server.get(key);
    if (existing) {
      if (existing.last) this.transport.send(existing.last, flow);
      return;
    }
    const tx: ServerTx = {
      request,
      flow,
      done: false,
      reply: (status, reason, extension) => {
        const response = sip.makeResponse(request, status, reason, extension);
        if (status > 100 && !response.headers.to.params?.tag) {
          response.headers.to = { ...response.headers.to, params: { ...response.headers.to.params, tag: this.tag } };
        }
        tx.last = response;
        if (status >= 200) {
          tx.done = true;
          // Keep answering retransmissions for a while, then forget the transaction.
          setTimeout(() => this.#server.delete(key), TIMER_B).unref();
        }
        this.transport.send(response, flow);
        return response;
      },
    };
    this.#server.set(key, tx);
    try {
      this.handler.onRequest(tx);
    } catch (error) {
      this.logger.error({ err: error }, 'SIP request handler failed');
      if (!tx.done) tx.reply(500, 'Server Internal Error');
    }
  }

  #onResponse(response: SipMessage): void {
    const branch = String(response.headers.via?.[0]?.params?.branch ?? '');
    const entry = this.#client.get(branch);
    if (!entry) return;
    if ((response.status ?? 0) < 200) {
      entry.onProvisional?.(response);
      // A provisional answer stops the retransmissions; the final answer may take a while.
      clearTimeout(entry.retransmit);
      return;
    }
    this.#finishClient(branch);
    entry.resolve(response);
  }

  #finishClient(branch: string): void {
    const entry = this.#client.get(branch);
    if (!entry) return;
    clearTimeout(entry.retransmit);
    clearTimeout(entry.timeout);
    this.#client.delete(branch);
  }
}
