import { randomBytes } from 'node:crypto';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import * as sip from 'sip';
import type { SipMessage } from 'sip';
import type { EventBus } from '../common/bus/EventBus.ts';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { MeetingEvent } from '../common/protocol.ts';
import { meetingChannel } from '../meeting/MeetingEvents.ts';
import type { MeetingServices } from '../meeting/services.ts';
import { Call, maskNumber } from './Call.ts';
import { Ivr } from './Ivr.ts';
import { AUDIO_LEVEL_URI } from '../media/audio/rtp.ts';
import { AUDIO_LEVEL_EXT_ID, OPUS_PT, RtpSession } from './RtpSession.ts';
import { buildSdp, negotiate, parseAudio, type PhoneCodec } from './sdp.ts';
import type { ServerTransaction, SipHandler, SipServer } from './SipServer.ts';
import type { Flow } from './SipTransport.ts';
import type { TrunkAuth } from './TrunkAuth.ts';
import { detach } from '../common/detach.ts';

export interface GatewayOptions {
  nodeId: string;
  listenIp: string;
  announcedAddress?: string;
  sipPort: number;
  rtpTimeoutMs: number;
  maxCalls: number;
  inviteRate: number;
  ivrTries: number;
}

const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO';
const PIN = /^\d{6,12}$/;

/**
 * Turns telephone calls into meeting participants: dial-in by PIN in the request URI or through
 * the IVR, dial-out on a host's request, and the end of calls from either side or by silence.
 */
export class Gateway implements SipHandler {
  readonly calls = new Map<string, Call>();
  readonly #limiter: RateLimiterMemory;
  #server?: SipServer;
  readonly #timer: NodeJS.Timeout;

  private readonly services: MeetingServices;
  private readonly bus: EventBus;
  private readonly auth: TrunkAuth;
  private readonly options: GatewayOptions;
  private readonly logger: Logger;
  constructor(
    services: MeetingServices,
    bus: EventBus,
    auth: TrunkAuth,
    options: GatewayOptions,
    logger: Logger,
  ) {
    this.services = services;
    this.bus = bus;
    this.auth = auth;
    this.options = options;
    this.logger = logger;
    this.#limiter = new RateLimiterMemory({ points: options.inviteRate, duration: 1 });
    this.#timer = setInterval(() => this.#checkRtp(), 1000);
    this.#timer.unref();
  }

  attach(server: SipServer): void {
    this.#server = server;
  }

  get #address(): string {
    return this.options.announcedAddress ?? this.options.listenIp;
  }

  onRequest(tx: ServerTransaction): void {
    const { request } = tx;
    switch (request.method) {
      case 'OPTIONS':
        tx.reply(200, 'OK', { headers: { allow: ALLOW, accept: 'application/sdp' } });
        return;
      case 'INVITE':
        if (request.headers.to?.params?.tag) detach(this.logger, 're-INVITE', this.#reInvite(tx));
        else detach(this.logger, 'INVITE', this.#invite(tx));
        return;
      case 'BYE':
        this.#bye(tx);
        return;
      case 'CANCEL':
        this.#cancel(tx);
        return;
      case 'INFO':
        this.#info(tx);
        return;
      default:
        tx.reply(405, 'Method Not Allowed', { headers: { allow: ALLOW } });
    }
  }

  onAck(request: SipMessage): void {
    const call = this.calls.get(request.headers['call-id']);
    if (!call) return;
    call.confirmed = true;
    call.stopRetransmit?.();
    call.rtp.lastReceivedAt = Date.now();
  }

  /** Dial-out: calls `uri` and puts whoever answers into the meeting. */
  async dial(meetingId: string, uri: string): Promise<{ callId: string }> {
    const server = this.#server!;
    const target = sip.parseUri(uri);
    if (!target?.host) throw new AppError('bad_request', 'not a SIP URI');
    await this.services.meetings.get(meetingId);
    if (this.calls.size >= this.options.maxCalls) throw new AppError('unavailable', 'the gateway is at its call limit');
    const flow: Flow = { protocol: target.params.transport?.toLowerCase() === 'tcp' ? 'TCP' : 'UDP', address: target.host, port: target.port ?? 5060 };
    const callId = `${randomBytes(10).toString('hex')}@${this.#address}`;
    const offerCodecs: Array<{ name: PhoneCodec; payloadType: number }> = [
      { name: 'PCMU', payloadType: 0 },
      { name: 'PCMA', payloadType: 8 },
    ];
    const rtp = new RtpSession({ codec: 'PCMU', payloadType: 0, telephoneEvent: 101, remote: { address: target.host, port: 9 } }, this.options.listenIp);
    const ports = await rtp.open();
    const localParty = { uri: `sip:convene@${this.#address}:${this.options.sipPort}`, params: { tag: randomBytes(4).toString('hex') } };
    const remoteParty = { uri, params: {} };
    const call = new Call(callId, flow, 'out', target.user ?? uri, rtp, { localParty, remoteParty, remoteTarget: uri, routeSet: [] });
    call.meetingId = meetingId;
    this.calls.set(callId, call);
    const invite: SipMessage = {
      method: 'INVITE',
      uri,
      version: '2.0',
      headers: {
        via: [server.via(flow, this.#address, this.options.sipPort)],
        from: localParty,
        to: remoteParty,
        'call-id': callId,
        cseq: { seq: ++call.localCseq, method: 'INVITE' },
        contact: [{ uri: `sip:convene@${this.#address}:${this.options.sipPort}` }],
        'max-forwards': 70,
        'content-type': 'application/sdp',
        allow: ALLOW,
      },
      content: buildSdp({ address: this.#address, port: ports.phonePort, codecs: offerCodecs, telephoneEvent: 101, sessionId: String(Date.now()) }),
    };
    const answered = server.request(invite, flow).then(async (response) => {
      const status = response.status ?? 0;
      if (status < 200 || status >= 300) {
        this.logger.info({ callId, status }, 'dial-out not answered');
        this.#forget(call);
        return;
      }
      call.dialog.remoteParty = response.headers.to;
      call.dialog.remoteTarget = response.headers.contact?.[0]?.uri ?? uri;
      call.confirmed = true;
      this.#sendAck(call, response);
      const answer = parseAudio(response.content ?? '');
      const negotiated = answer && negotiate(answer);
      if (!negotiated) {
        await this.#hangUp(call, 'no common codec');
        return;
      }
      Object.assign(call.rtp.negotiated, negotiated);
      call.rtp.updateRemote(negotiated.remote);
      call.rtp.lastReceivedAt = Date.now();
      try {
        await this.#joinMeeting(call, meetingId);
      } catch (error) {
        this.logger.warn({ callId, err: error }, 'dial-out could not join the meeting');
        await this.#hangUp(call, 'join failed');
      }
    });
    detach(this.logger, 'dial-out', answered);
    return { callId };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([...this.calls.values()].map((call) => this.#hangUp(call, 'gateway shutting down')));
  }

  async #invite(tx: ServerTransaction): Promise<void> {
    const { request, flow } = tx;
    const callId: string = request.headers['call-id'];
    if (this.calls.has(callId)) {
      tx.reply(482, 'Loop Detected');
      return;
    }
    try {
      await this.#limiter.consume(flow.address);
    } catch {
      tx.reply(503, 'Service Unavailable', { headers: { 'retry-after': 5 } });
      return;
    }
    if (this.calls.size >= this.options.maxCalls) {
      tx.reply(503, 'Service Unavailable', { headers: { 'retry-after': 30 } });
      return;
    }
    const verdict = this.auth.check(request, flow.address);
    if (!verdict.ok) {
      if (verdict.status === 401) tx.reply(401, 'Unauthorized', { headers: verdict.challenge });
      else tx.reply(403, 'Forbidden');
      return;
    }
    const offer = parseAudio(request.content ?? '');
    if (!offer) {
      tx.reply(400, 'Bad Request - missing or invalid SDP');
      return;
    }
    const negotiated = negotiate(offer);
    if (!negotiated) {
      tx.reply(488, 'Not Acceptable Here');
      return;
    }
    const dialed = sip.parseUri(request.uri ?? '')?.user ?? '';
    let meetingId: string | null = null;
    if (PIN.test(dialed)) {
      meetingId = await this.services.repo.meetingIdForPin(dialed);
      if (!meetingId) {
        tx.reply(404, 'Not Found');
        return;
      }
    }
    tx.reply(100, 'Trying');

    const rtp = new RtpSession(negotiated, this.options.listenIp);
    const ports = await rtp.open();
    const caller = sip.parseUri(request.headers.from.uri)?.user ?? '';
    const call = new Call(callId, flow, 'in', caller, rtp, {
      localParty: { ...request.headers.to, params: { ...request.headers.to.params, tag: this.#server!.tag } },
      remoteParty: request.headers.from,
      remoteTarget: request.headers.contact?.[0]?.uri ?? request.headers.from.uri,
      routeSet: request.headers['record-route'] ?? [],
    });
    this.calls.set(callId, call);
    rtp.on('dtmf', (digit) => detach(this.logger, 'DTMF digit', this.#digit(call, digit)));

    if (meetingId) {
      try {
        await this.#joinMeeting(call, meetingId);
      } catch (error) {
        this.#forget(call);
        const [status, reason] = sipStatusFor(error);
        this.logger.info({ callId, meetingId, status, err: error }, 'dial-in refused');
        tx.reply(status, reason);
        return;
      }
    } else {
      call.state = 'ivr';
      call.ivr = new Ivr(this.options.ivrTries);
    }
    const answer = buildSdp({
      address: this.#address,
      port: ports.phonePort,
      codecs: [{ name: negotiated.codec, payloadType: negotiated.payloadType }],
      telephoneEvent: negotiated.telephoneEvent,
      sessionId: String(Date.now()),
    });
    const ok = tx.reply(200, 'OK', {
      headers: {
        contact: [{ uri: `sip:convene@${this.#address}:${this.options.sipPort}${flow.protocol === 'TCP' ? ';transport=tcp' : ''}` }],
        'content-type': 'application/sdp',
        allow: ALLOW,
        'record-route': request.headers['record-route'],
      },
      content: answer,
    });
    call.rtp.lastReceivedAt = Date.now();
    if (flow.protocol === 'UDP') this.#retransmitUntilAck(call, ok);
    this.logger.info({ callId, meetingId, codec: negotiated.codec, ivr: call.state === 'ivr' }, 'call answered');
  }

  async #reInvite(tx: ServerTransaction): Promise<void> {
    const call = this.#dialogCall(tx);
    if (!call) return;
    const offer = tx.request.content ? parseAudio(tx.request.content) : null;
    const negotiated = offer ? negotiate(offer) : null;
    if (offer && !negotiated) {
      tx.reply(488, 'Not Acceptable Here');
      return;
    }
    // The codec stays; only where the phone's media goes may change (hold, transfer, NAT).
    if (negotiated) call.rtp.updateRemote(negotiated.remote);
    const n = call.rtp.negotiated;
    tx.reply(200, 'OK', {
      headers: { contact: [{ uri: `sip:convene@${this.#address}:${this.options.sipPort}` }], 'content-type': 'application/sdp' },
      content: buildSdp({
        address: this.#address,
        port: call.rtp.ports.phonePort,
        codecs: [{ name: n.codec, payloadType: n.payloadType }],
        telephoneEvent: n.telephoneEvent,
        sessionId: String(Date.now()),
      }),
    });
  }

  /** The call an in-dialog request belongs to; answers 481 when there is none. */
  #dialogCall(tx: ServerTransaction): Call | undefined {
    const call = this.calls.get(tx.request.headers['call-id']);
    if (!call) tx.reply(481, 'Call/Transaction Does Not Exist');
    return call;
  }

  #bye(tx: ServerTransaction): void {
    const call = this.#dialogCall(tx);
    if (!call) return;
    tx.reply(200, 'OK');
    this.logger.info({ callId: call.callId }, 'caller hung up');
    detach(this.logger, 'ending a call', this.#end(call));
  }

  #cancel(tx: ServerTransaction): void {
    // Calls are answered at once, so a CANCEL usually finds the INVITE already answered:
    // the caller then ends the call with BYE. One still unconfirmed is dropped here.
    const call = this.#dialogCall(tx);
    if (!call) return;
    tx.reply(200, 'OK');
    if (!call.confirmed) detach(this.logger, 'ending a cancelled call', this.#end(call));
  }

  #info(tx: ServerTransaction): void {
    const call = this.#dialogCall(tx);
    if (!call) return;
    tx.reply(200, 'OK');
    // Keying digits by INFO is activity too, though no RTP flows meanwhile.
    call.rtp.lastReceivedAt = Date.now();
    const signal = /Signal\s*=\s*([0-9*#A-D])/i.exec(tx.request.content ?? '')?.[1];
    if (signal) detach(this.logger, 'DTMF digit', this.#digit(call, signal.toUpperCase()));
  }

  async #digit(call: Call, digit: string): Promise<void> {
    if (call.state !== 'ivr' || !call.ivr) return;
    const pin = call.ivr.push(digit);
    if (!pin) return;
    const meetingId = await this.services.repo.meetingIdForPin(pin);
    if (meetingId) {
      try {
        await this.#joinMeeting(call, meetingId);
        return;
      } catch (error) {
        this.logger.info({ callId: call.callId, err: error }, 'IVR join refused');
      }
    }
    if (call.ivr.rejected()) {
      this.logger.info({ callId: call.callId, tries: call.ivr.tries }, 'wrong PIN; caller may try again');
      return;
    }
    this.logger.info({ callId: call.callId }, 'too many wrong PINs; hanging up');
    await this.#hangUp(call, 'wrong PIN');
  }

  async #joinMeeting(call: Call, meetingId: string): Promise<void> {
    const { seats, media } = this.services;
    const participantId = `p_sip_${randomBytes(8).toString('hex')}`;
    // Marked at once, so that digits keyed meanwhile cannot start a second join.
    const before = call.state;
    call.state = 'in-meeting';
    let seated = false;
    try {
      const nodeId = await seats.mediaNodeFor(meetingId);
      const { rtpCapabilities } = await media.call(nodeId, 'getRouterRtpCapabilities', { meetingId });
      await seats.join(
        {
          sub: participantId,
          mid: meetingId,
          name: maskNumber(call.caller),
          role: 'guest',
          grants: { publishAudio: true, publishVideo: false, publishScreen: false, moderate: false, present: false },
          typ: 'join',
        },
        `sip:${call.callId}`,
        { rtpCapabilities, kind: 'phone' },
        this.options.nodeId,
      );
      seated = true;
      await this.#connectToMeeting(call, meetingId, participantId);
    } catch (error) {
      // A seat taken for a call that never connected would otherwise outlive it.
      if (seated) await seats.leave(meetingId, participantId, 'left').catch(() => undefined);
      call.state = before;
      throw error;
    }
    call.meetingId = meetingId;
    call.participantId = participantId;
    call.unsubscribe = await this.bus.subscribe(meetingChannel(meetingId), (message) => this.#onMeetingEvent(call, message as MeetingEvent));
    this.logger.info({ callId: call.callId, meetingId, participantId }, 'caller joined the meeting');
  }

  /** The caller's media: a phone leg on the seat's media node, and its voice as a producer. */
  async #connectToMeeting(call: Call, meetingId: string, participantId: string): Promise<void> {
    const { media, repo, publications } = this.services;
    const seat = await repo.getParticipant(meetingId, participantId);
    if (!seat?.mediaNodeId) throw new AppError('unavailable', 'no media node for the call');
    const ports = call.rtp.ports;
    const leg = await media.call(seat.mediaNodeId, 'createPhoneLeg', {
      meetingId,
      participantId,
      codec: call.rtp.negotiated.codec,
      sendTo: { ip: this.options.listenIp, port: ports.mixPort },
    });
    call.rtp.connectMedia({ ip: leg.ip, port: leg.port });
    await publications.publish(seat, {
      transportId: leg.transportId,
      kind: 'audio',
      source: 'mic',
      rtpParameters: {
        mid: '0',
        codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
        headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_EXT_ID, encrypt: false, parameters: {} }],
        encodings: [{ ssrc: call.rtp.ssrc }],
        rtcp: { cname: participantId, reducedSize: true },
      },
    });
  }

  #onMeetingEvent(call: Call, event: MeetingEvent): void {
    const mine = event.to === undefined || event.to === call.participantId;
    if (!mine) return;
    if (event.event === 'moderation' && (event.payload.action === 'remove' || event.payload.action === 'end')) {
      detach(this.logger, 'hanging up', this.#hangUp(call, event.payload.action === 'end' ? 'meeting ended' : 'removed by host'));
    } else if (event.event === 'participantLeft' && event.payload.participantId === call.participantId && call.state !== 'ended') {
      detach(this.logger, 'hanging up', this.#hangUp(call, 'left the meeting'));
    }
  }

  #checkRtp(): void {
    const now = Date.now();
    for (const call of this.calls.values()) {
      if (call.state === 'ended' || !call.confirmed) continue;
      if (now - call.rtp.lastReceivedAt > this.options.rtpTimeoutMs) {
        this.logger.info({ callId: call.callId }, 'no RTP; hanging up');
        detach(this.logger, 'hanging up', this.#hangUp(call, 'RTP timeout'));
      }
    }
  }

  async #hangUp(call: Call, reason: string): Promise<void> {
    if (call.state === 'ended') return;
    const server = this.#server!;
    const bye: SipMessage = {
      method: 'BYE',
      uri: call.dialog.remoteTarget,
      version: '2.0',
      headers: {
        via: [server.via(call.flow, this.#address, this.options.sipPort)],
        from: call.dialog.localParty,
        to: call.dialog.remoteParty,
        'call-id': call.callId,
        cseq: { seq: ++call.localCseq, method: 'BYE' },
        'max-forwards': 70,
        reason: `SIP;text="${reason}"`,
        route: call.dialog.routeSet.length ? call.dialog.routeSet : undefined,
      },
    };
    const ending = this.#end(call);
    await server.request(bye, call.flow);
    await ending;
  }

  /** Releases everything the call holds; safe to call twice. */
  async #end(call: Call): Promise<void> {
    if (call.state === 'ended') return;
    const wasInMeeting = call.state === 'in-meeting';
    call.state = 'ended';
    this.#forget(call);
    await call.unsubscribe?.().catch(() => undefined);
    if (wasInMeeting && call.meetingId && call.participantId) {
      await this.services.seats.leave(call.meetingId, call.participantId, 'left').catch((error: unknown) => {
        this.logger.warn({ callId: call.callId, err: error }, "could not release the caller's seat");
      });
    }
  }

  #forget(call: Call): void {
    call.stopRetransmit?.();
    call.rtp.close();
    this.calls.delete(call.callId);
  }

  #retransmitUntilAck(call: Call, response: SipMessage): void {
    let interval = 500;
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    const again = () => {
      if (call.confirmed || call.state === 'ended') return;
      if (Date.now() - started > 32_000) {
        detach(this.logger, 'hanging up', this.#hangUp(call, 'no ACK'));
        return;
      }
      this.#server!.transport.send(response, call.flow);
      interval = Math.min(interval * 2, 4000);
      timer = setTimeout(again, interval);
    };
    timer = setTimeout(again, interval);
    call.stopRetransmit = () => clearTimeout(timer);
  }

  #sendAck(call: Call, response: SipMessage): void {
    const server = this.#server!;
    const ack: SipMessage = {
      method: 'ACK',
      uri: call.dialog.remoteTarget,
      version: '2.0',
      headers: {
        via: [server.via(call.flow, this.#address, this.options.sipPort)],
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

/** The SIP answer for a meeting-side refusal. */
function sipStatusFor(error: unknown): [number, string] {
  if (!(error instanceof AppError)) return [500, 'Server Internal Error'];
  switch (error.code) {
    case 'meeting_not_found':
      return [404, 'Not Found'];
    case 'meeting_ended':
      return [410, 'Gone'];
    case 'meeting_locked':
    case 'forbidden':
      return [403, 'Forbidden'];
    case 'meeting_full':
      return [486, 'Busy Here'];
    default:
      return [503, 'Service Unavailable'];
  }
}

