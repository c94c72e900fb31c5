import type { SipMessage } from 'sip';
import { type Call, tagOf } from './Call.ts';
import type { Flow } from './SipTransport.ts';

/**
 * The gateway's calls by Call-ID, and the rule that ties a request to one. A Call-ID alone is
 * not proof: it travels in every message and is easily seen or guessed. An in-dialog request
 * must carry both tags of the dialog (From the peer's, To ours) and come from the address the
 * dialog was set up with (the trunk or proxy; RFC 3261 §12.2.2 with the source as a trunk's
 * identity).
 */
export class Dialogs {
  readonly #calls = new Map<string, Call>();

  get size(): number {
    return this.#calls.size;
  }

  get(callId: string): Call | undefined {
    return this.#calls.get(callId);
  }

  has(callId: string): boolean {
    return this.#calls.has(callId);
  }

  values(): IterableIterator<Call> {
    return this.#calls.values();
  }

  add(call: Call): void {
    this.#calls.set(call.callId, call);
  }

  delete(call: Call): void {
    if (this.#calls.get(call.callId) === call) this.#calls.delete(call.callId);
  }

  /** The call a request inside a dialog belongs to: BYE, INFO, re-INVITE, ACK of a 2xx. */
  match(request: SipMessage, flow: Flow): Call | undefined {
    const call = this.#calls.get(request.headers['call-id']);
    if (!call || flow.address !== call.flow.address) return undefined;
    const peerTag = tagOf(call.dialog.remoteParty);
    const ourTag = tagOf(call.dialog.localParty);
    if (peerTag === undefined || ourTag === undefined) return undefined;
    if (tagOf(request.headers.from) !== peerTag || tagOf(request.headers.to) !== ourTag) return undefined;
    return call;
  }

  /** A CANCEL names the INVITE it cancels: same Call-ID, From tag and source; no To tag yet. */
  matchCancel(request: SipMessage, flow: Flow): Call | undefined {
    const call = this.#calls.get(request.headers['call-id']);
    if (call?.direction !== 'in' || flow.address !== call.flow.address) return undefined;
    if (tagOf(request.headers.from) !== tagOf(call.dialog.remoteParty)) return undefined;
    return call;
  }

  count(predicate: (call: Call) => boolean): number {
    let n = 0;
    for (const call of this.#calls.values()) if (predicate(call)) n++;
    return n;
  }
}
