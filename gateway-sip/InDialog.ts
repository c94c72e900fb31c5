import { detach } from '../common/detach.ts';
import type { Logger } from '../common/logger.ts';
import type { Call } from './Call.ts';
import { ALLOW, refuse } from './DialIn.ts';
import type { Dialogs } from './Dialogs.ts';
import { buildSdp, negotiate, parseAudio } from './sdp.ts';
import type { ServerTransaction } from './SipServer.ts';
import type { TrunkAuth } from './TrunkAuth.ts';

/** What in-dialog handling needs from the gateway that owns the calls. */
export interface InDialogHost {
  readonly calls: Dialogs;
  /** The address this gateway announces in Contact and SDP. */
  address(): string;
  /** Releases everything a call holds; safe to call twice. */
  end(call: Call): Promise<void>;
  /** A DTMF digit keyed on a call (INFO here, RFC 4733 in the RTP). */
  digit(call: Call, digit: string): Promise<void>;
}

/**
 * Requests inside an established (or establishing) call: re-INVITE (hold, transfer), BYE, INFO
 * (DTMF) and CANCEL. A request must match its dialog and, for calls a trunk placed, pass that
 * trunk's policy again: a dialog's identifiers are not a credential.
 */
export class InDialog {
  private readonly host: InDialogHost;
  private readonly auth: TrunkAuth;
  private readonly options: { sipPort: number };
  private readonly logger: Logger;
  constructor(host: InDialogHost, auth: TrunkAuth, options: { sipPort: number }, logger: Logger) {
    this.host = host;
    this.auth = auth;
    this.options = options;
    this.logger = logger;
  }

  /** A request inside a dialog: it must match the dialog, and pass the trunk's policy again. */
  handle(tx: ServerTransaction): void {
    const { request, flow } = tx;
    const call = this.host.calls.match(request, flow);
    if (!call) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    // Our own dial-out's peer is the destination we chose, matched by address and tags.
    if (call.direction === 'in') {
      const verdict = this.auth.check(request, flow.address);
      if (!verdict.ok) {
        refuse(tx, verdict);
        return;
      }
      if (verdict.trunk !== call.trunk) {
        tx.reply(403, 'Forbidden');
        return;
      }
    }
    switch (request.method) {
      case 'INVITE':
        this.#reInvite(tx, call);
        return;
      case 'BYE':
        tx.reply(200, 'OK');
        this.logger.info({ callId: call.callId }, 'caller hung up');
        detach(this.logger, 'ending a call', this.host.end(call));
        return;
      case 'INFO':
        this.#info(tx, call);
        return;
      case 'OPTIONS':
        tx.reply(200, 'OK', { headers: { allow: ALLOW, accept: 'application/sdp' } });
        return;
      default:
        tx.reply(405, 'Method Not Allowed', { headers: { allow: ALLOW } });
    }
  }

  #reInvite(tx: ServerTransaction, call: Call): void {
    const content = tx.request.content ?? '';
    if (content.trim() !== '') {
      const offer = parseAudio(content);
      const negotiated = offer ? negotiate(offer) : null;
      if (!negotiated) {
        tx.reply(488, 'Not Acceptable Here');
        return;
      }
      // The codec stays; only where the phone's media goes may change (hold, transfer).
      call.rtp.updateRemote(negotiated.remote);
    }
    const n = call.rtp.negotiated;
    tx.reply(200, 'OK', {
      headers: { contact: [{ uri: `sip:convene@${this.host.address()}:${this.options.sipPort}` }], 'content-type': 'application/sdp' },
      content: buildSdp({
        address: this.host.address(),
        port: call.rtp.ports.phonePort,
        codecs: [{ name: n.codec, payloadType: n.payloadType }],
        telephoneEvent: n.telephoneEvent,
        sessionId: String(Date.now()),
      }),
    });
  }

  cancel(tx: ServerTransaction): void {
    // Calls are answered at once, so a CANCEL usually finds the INVITE already answered:
    // the caller then ends the call with BYE. One still unconfirmed is dropped here.
    const call = this.host.calls.matchCancel(tx.request, tx.flow);
    if (!call) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    tx.reply(200, 'OK');
    if (!call.confirmed) detach(this.logger, 'ending a cancelled call', this.host.end(call));
  }

  #info(tx: ServerTransaction, call: Call): void {
    tx.reply(200, 'OK');
    // Keying digits by INFO is activity too, though no RTP flows meanwhile.
    call.rtp.lastReceivedAt = Date.now();
    const signal = /Signal\s*=\s*([0-9*#A-D])/i.exec(tx.request.content ?? '')?.[1];
    if (signal) detach(this.logger, 'DTMF digit', this.host.digit(call, signal.toUpperCase()));
  }
}
