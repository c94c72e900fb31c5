import { randomBytes } from 'node:crypto';
import type { SipMessage } from 'sip';
import { detach } from '../common/detach.ts';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { CallHost } from './CallHost.ts';
import { Call } from './Call.ts';
import { ALLOW } from './DialIn.ts';
import type { DialPolicy } from './DialPolicy.ts';
import { RtpSession } from './RtpSession.ts';
import { buildSdp, negotiate, type PhoneCodec, parseAudio } from './sdp.ts';
import { checkUri } from './sipValidate.ts';
import type { Flow } from './SipTransport.ts';

export interface DialOutOptions {
  listenIp: string;
  sipPort: number;
  maxCalls: number;
  maxCallsPerMeeting: number;
  dialTimeoutMs: number;
}


/**
 * Calls a telephone for a meeting (RFC 3261 as a UAC): the destination passes the dial policy,
 * the INVITE rings until answered or `dialTimeoutMs` (then CANCEL), a 2xx is ACKed and the
 * callee joins the meeting; a 2xx that comes after we gave up is ACKed and ended with BYE.
 */
export class DialOut {
  private readonly host: CallHost;
  private readonly policy: DialPolicy;
  private readonly options: DialOutOptions;
  private readonly logger: Logger;

  constructor(host: CallHost, policy: DialPolicy, options: DialOutOptions, logger: Logger) {
    this.host = host;
    this.policy = policy;
    this.options = options;
    this.logger = logger;
  }

  async dial(meetingId: string, uri: string, meetingExists?: (id: string) => Promise<unknown>): Promise<{ callId: string }> {
    const target = await this.policy.check(meetingId, uri);
    await meetingExists?.(meetingId);
    const { calls } = this.host;
    if (calls.size >= this.options.maxCalls) throw new AppError('unavailable', 'the gateway is at its call limit');
    if (calls.count((c) => c.meetingId === meetingId) >= this.options.maxCallsPerMeeting) throw new AppError('meeting_full', 'the meeting has as many phone calls as it may');
    const server = this.host.server();
    const address = this.host.address();
    const flow: Flow = { protocol: target.protocol, address: target.address, port: target.port };
    const callId = `${randomBytes(10).toString('hex')}@${address}`;
    const offerCodecs: Array<{ name: PhoneCodec; payloadType: number }> = [
      { name: 'PCMU', payloadType: 0 },
      { name: 'PCMA', payloadType: 8 },
    ];
    // No media is taken until the answer says where it comes from.
    const rtp = new RtpSession({ codec: 'PCMU', payloadType: 0, telephoneEvent: 101, remote: { address: target.address, port: 9 } }, this.options.listenIp);
    const localParty = { uri: `sip:convene@${address}:${this.options.sipPort}`, params: { tag: randomBytes(4).toString('hex') } };
    const remoteParty = { uri, params: {} };
    const call = new Call(callId, flow, 'out', target.uri.user ?? uri, rtp, { localParty, remoteParty, remoteTarget: uri, routeSet: [] });
    call.meetingId = meetingId;
    calls.add(call);
    let ports: { phonePort: number };
    try {
      ports = await rtp.open();
    } catch (error) {
      this.host.forget(call);
      throw error;
    }
    const invite: SipMessage = {
      method: 'INVITE',
      uri,
      version: '2.0',
      headers: {
        via: [server.via(flow, address, this.options.sipPort)],
        from: localParty,
        to: remoteParty,
        'call-id': callId,
        cseq: { seq: ++call.localCseq, method: 'INVITE' },
        contact: [{ uri: `sip:convene@${address}:${this.options.sipPort}` }],
        'max-forwards': 70,
        'content-type': 'application/sdp',
        allow: ALLOW,
      },
      content: buildSdp({ address, port: ports.phonePort, codecs: offerCodecs, telephoneEvent: 101, sessionId: String(Date.now()) }),
    };
    call.invite = invite;
    detach(this.logger, 'dial-out', this.#ring(call, invite, meetingId));
    return { callId };
  }

  /** Gives up on a dial-out still ringing: CANCEL once it has rung, else as soon as it does. */
  cancel(call: Call): void {
    if (call.cancelled || call.confirmed || !call.invite) return;
    call.cancelled = true;
    if (call.ringing) detach(this.logger, 'CANCEL', this.host.server().cancel(call.invite, call.flow));
  }

  async #ring(call: Call, invite: SipMessage, meetingId: string): Promise<void> {
    const server = this.host.server();
    const timer = setTimeout(() => {
      this.logger.info({ callId: call.callId }, 'dial-out not answered in time; cancelling');
      this.cancel(call);
    }, this.options.dialTimeoutMs);
    timer.unref();
    let response: SipMessage;
    try {
      response = await server.request(invite, call.flow, () => {
        // RFC 3261 §9.1: a CANCEL may only follow a provisional response.
        const first = !call.ringing;
        call.ringing = true;
        if (first && call.cancelled) detach(this.logger, 'CANCEL', server.cancel(invite, call.flow));
      });
    } finally {
      clearTimeout(timer);
    }
    const status = response.status ?? 0;
    if (status < 200 || status >= 300) {
      // The transaction layer has ACKed a non-2xx final answer.
      this.logger.info({ callId: call.callId, status }, 'dial-out not answered');
      this.host.forget(call);
      return;
    }
    const answeredTo = response.headers.to;
    const contact = checkUri(response.headers.contact?.[0]?.uri) ? (response.headers.contact[0].uri as string) : call.dialog.remoteTarget;
    call.dialog.remoteParty = answeredTo;
    call.dialog.remoteTarget = contact;
    // A 2xx always gets its ACK, even one we no longer want (RFC 3261 §15): then BYE.
    this.sendAck(call, response);
    if (call.cancelled || call.state === 'ended') {
      this.logger.info({ callId: call.callId }, 'dial-out answered after it was cancelled; hanging up');
      call.confirmed = true;
      await this.host.hangUp(call, 'cancelled');
      return;
    }
    call.confirmed = true;
    const answer = parseAudio(response.content ?? '');
    const negotiated = answer && negotiate(answer);
    if (!negotiated) {
      await this.host.hangUp(call, 'no common codec');
      return;
    }
    Object.assign(call.rtp.negotiated, negotiated);
    call.rtp.updateRemote(negotiated.remote);
    call.rtp.lastReceivedAt = Date.now();
    try {
      await this.host.join(call, meetingId);
    } catch (error) {
      this.logger.warn({ callId: call.callId, err: error }, 'dial-out could not join the meeting');
      await this.host.hangUp(call, 'join failed');
    }
  }

  /** The ACK of a 2xx: a request of its own in the dialog (RFC 3261 §13.2.2.4). */
  sendAck(call: Call, response: SipMessage): void {
    const server = this.host.server();
    const ack: SipMessage = {
      method: 'ACK',
      uri: call.dialog.remoteTarget,
      version: '2.0',
      headers: {
        via: [server.via(call.flow, this.host.address(), this.options.sipPort)],
        from: call.dialog.localParty,
        to: response.headers.to,
        'call-id': call.callId,
        cseq: { seq: response.headers.cseq.seq, method: 'ACK' },
        'max-forwards': 70,
      },
    };
    server.transport.send(ack, call.flow);
  }
}
