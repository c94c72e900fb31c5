import { randomBytes } from 'node:crypto';
import * as sip from 'sip';
import type { SipMessage } from 'sip';
import type { Logger } from '../common/logger.ts';
import type { InviteObserver } from './GatewayMetrics.ts';
import { problemWith } from './sipValidate.ts';
import { badRequestFor, type Flow, type SipTransport } from './SipTransport.ts';

/** RFC 3261 §17 timers; T1 may be shortened for tests, the others follow it. */
export interface SipTimers {
  t1?: number;
  /** Server transactions remembered at once; beyond, new requests get 503 (a flood of fresh branches). */
  maxTransactions?: number;
}

export interface ServerTransaction {
  request: SipMessage;
  flow: Flow;
  /** Sends a response; a final one ends the transaction (retransmissions get it again). */
  reply(status: number, reason: string, extension?: { headers?: Record<string, unknown>; content?: string }): SipMessage;
  /** Whether a final response has been sent. */
  readonly done: boolean;
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

interface ClientTx {
  request: SipMessage;
  flow: Flow;
  resolve: (m: SipMessage) => void;
  onProvisional?: (m: SipMessage) => void;
  retransmit?: NodeJS.Timeout;
  timeout?: NodeJS.Timeout;
}

/**
 * The transaction layer of RFC 3261 that a gateway needs: absorbs retransmitted requests and
 * repeats the last response, retransmits its own requests over UDP until answered, and answers
 * garbage with 400 where there is enough of it to address an answer to.
 */
export class SipServer {
  readonly #server = new Map<string, ServerTx>();
  /** Our requests awaiting a final answer, by branch and method (a CANCEL shares its INVITE's branch). */
  readonly #client = new Map<string, ClientTx>();
  /** ACKs of non-2xx answers to our INVITEs, sent again if the answer is (RFC 3261 §17.1.1.2, Timer D). */
  readonly #acks = new Map<string, SipMessage>();
  readonly tag = randomBytes(4).toString('hex');

  readonly transport: SipTransport;
  private readonly handler: SipHandler;
  private readonly logger: Logger;
  readonly #t1: number;
  readonly #t2: number;
  /** Timer B (and F, and how long answered transactions are remembered): 64*T1. */
  readonly #timerB: number;
  readonly #maxTransactions: number;
  readonly #observer?: InviteObserver;
  /** `observer` hears the final answer to every INVITE, sent or received (metrics). */
  constructor(transport: SipTransport, handler: SipHandler, logger: Logger, timers: SipTimers = {}, observer?: InviteObserver) {
    this.#observer = observer;
    this.#t1 = timers.t1 ?? 500;
    this.#maxTransactions = timers.maxTransactions ?? 20_000;
    this.#t2 = 8 * this.#t1;
    this.#timerB = 64 * this.#t1;
    this.transport = transport;
    this.handler = handler;
    this.logger = logger;
    transport.on('message', (message, flow) => {
      const problem = problemWith(message);
      if (problem) {
        this.logger.info({ from: `${flow.address}:${flow.port}`, problem }, 'unusable SIP message');
        if (message.method && message.method !== 'ACK') this.#answerBad(message, flow, problem);
        return;
      }
      if (message.method) this.#onRequest(message, flow);
      else this.#onResponse(message);
    });
    transport.on('sendFailed', (error, flow) => {
      this.logger.info({ to: `${flow.address}:${flow.port}`, err: error }, 'SIP message not sent');
    });
    transport.on('malformed', (raw, flow) => {
      const answer = badRequestFor(raw, 'Bad Request');
      this.logger.info({ from: `${flow.address}:${flow.port}`, answered: answer !== null }, 'malformed SIP message');
      if (answer) transport.sendRaw(answer, flow);
    });
  }

  /**
   * Sends a request and resolves with its final response (a synthetic 408 on timeout). For an
   * INVITE a provisional answer stops both retransmission and Timer B: ringing may last (the
   * caller of this decides when to give up, with `cancel`); a non-2xx final answer is ACKed here.
   */
  request(message: SipMessage, flow: Flow, onProvisional?: (m: SipMessage) => void): Promise<SipMessage> {
    const key = clientKey(message.headers.via[0].params.branch, message.method ?? '');
    return new Promise((resolve) => {
      const entry: ClientTx = { request: message, flow, resolve, onProvisional };
      this.#client.set(key, entry);
      this.transport.send(message, flow);
      if (flow.protocol === 'UDP') {
        let interval = this.#t1;
        const again = () => {
          if (this.#client.get(key) !== entry) return;
          this.transport.send(message, flow);
          interval = message.method === 'INVITE' ? interval * 2 : Math.min(interval * 2, this.#t2);
          entry.retransmit = setTimeout(again, interval);
        };
        entry.retransmit = setTimeout(again, interval);
      }
      this.#startTimerB(key, entry);
    });
  }

  /**
   * CANCELs one of our INVITEs that has rung (RFC 3261 §9.1). The INVITE's transaction goes on:
   * its final answer (487, or a 200 that crossed the CANCEL) still arrives through `request`,
   * and if none comes within 64*T1 it ends with a 408.
   */
  async cancel(invite: SipMessage, flow: Flow): Promise<SipMessage> {
    const key = clientKey(invite.headers.via[0].params.branch, 'INVITE');
    const entry = this.#client.get(key);
    if (entry) this.#startTimerB(key, entry);
    return this.request(sameTransaction(invite, 'CANCEL', invite.headers.to), flow);
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
    if (this.#server.size >= this.#maxTransactions) {
      this.transport.send(sip.makeResponse(request, 503, 'Service Unavailable', { headers: { 'retry-after': 5 } }), flow);
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
        if (status >= 200 && !tx.done && request.method === 'INVITE') this.#observer?.inviteAnswered('in', status);
        tx.last = response;
        if (status >= 200) {
          tx.done = true;
          // Keep answering retransmissions for a while, then forget the transaction.
          setTimeout(() => this.#server.delete(key), this.#timerB).unref();
        }
        this.transport.send(response, flow);
        return response;
      },
    };
    this.#server.set(key, tx);
    // Forgotten even if the handler never gives a final answer (it failed midway).
    setTimeout(() => {
      if (this.#server.get(key) === tx) this.#server.delete(key);
    }, 2 * this.#timerB).unref();
    try {
      this.handler.onRequest(tx);
    } catch (error) {
      this.logger.error({ err: error }, 'SIP request handler failed');
      if (!tx.done) tx.reply(500, 'Server Internal Error');
    }
  }

  #onResponse(response: SipMessage): void {
    const branch = String(response.headers.via?.[0]?.params?.branch ?? '');
    const method = String(response.headers.cseq?.method ?? '');
    const key = clientKey(branch, method);
    const status = response.status ?? 0;
    const entry = this.#client.get(key);
    if (!entry) {
      // A retransmitted non-2xx answer to an INVITE we have ACKed: ACK it again.
      const ack = this.#acks.get(key);
      if (ack && status >= 300) this.transport.send(ack, this.#ackFlow.get(key)!);
      return;
    }
    if (status < 200) {
      entry.onProvisional?.(response);
      // A provisional answer stops the retransmissions; for an INVITE it stops Timer B too
      // (RFC 3261 §17.1.1.2): the callee is ringing, and may ring for a while.
      clearTimeout(entry.retransmit);
      if (method === 'INVITE') clearTimeout(entry.timeout);
      return;
    }
    if (method === 'INVITE' && status >= 300) this.#ackFailure(key, entry, response);
    if (method === 'INVITE') this.#observer?.inviteAnswered('out', status);
    this.#finishClient(key);
    entry.resolve(response);
  }

  readonly #ackFlow = new Map<string, Flow>();

  /** The ACK of a non-2xx answer belongs to the INVITE's transaction (RFC 3261 §17.1.1.3). */
  #ackFailure(key: string, entry: ClientTx, response: SipMessage): void {
    const ack = sameTransaction(entry.request, 'ACK', response.headers.to);
    this.transport.send(ack, entry.flow);
    this.#acks.set(key, ack);
    this.#ackFlow.set(key, entry.flow);
    setTimeout(() => {
      this.#acks.delete(key);
      this.#ackFlow.delete(key);
    }, this.#timerB).unref();
  }

  #startTimerB(key: string, entry: ClientTx): void {
    clearTimeout(entry.timeout);
    entry.timeout = setTimeout(() => {
      this.#finishClient(key);
      if (entry.request.method === 'INVITE') this.#observer?.inviteAnswered('out', 408);
      entry.resolve({ status: 408, reason: 'Request Timeout', headers: {} });
    }, this.#timerB);
  }

  #finishClient(key: string): void {
    const entry = this.#client.get(key);
    if (!entry) return;
    clearTimeout(entry.retransmit);
    clearTimeout(entry.timeout);
    this.#client.delete(key);
  }

  /** A 400 for a request that parsed but carries something unusable; only the safe headers are copied. */
  #answerBad(request: SipMessage, flow: Flow, problem: string): void {
    const h = request.headers;
    const response: SipMessage = {
      status: 400,
      reason: `Bad Request - ${problem}`,
      version: '2.0',
      headers: { via: h.via, from: h.from, to: h.to, 'call-id': h['call-id'], cseq: h.cseq },
    };
    this.transport.send(response, flow);
  }
}

function clientKey(branch: unknown, method: string): string {
  return `${String(branch)}:${method}`;
}

/**
 * A CANCEL, or the ACK of a non-2xx answer: both belong to the INVITE's own transaction, so they
 * reuse its Via (branch), Call-ID, CSeq number and route (RFC 3261 §9.1, §17.1.1.3).
 */
function sameTransaction(invite: SipMessage, method: 'CANCEL' | 'ACK', to: SipMessage['headers']['to']): SipMessage {
  return {
    method,
    uri: invite.uri,
    version: '2.0',
    headers: {
      via: [invite.headers.via[0]],
      from: invite.headers.from,
      to,
      'call-id': invite.headers['call-id'],
      cseq: { seq: invite.headers.cseq.seq, method },
      'max-forwards': 70,
      ...(invite.headers.route ? { route: invite.headers.route } : {}),
    },
  };
}
