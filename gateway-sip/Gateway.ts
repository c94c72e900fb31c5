import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { SipMessage } from 'sip';
import type { EventBus } from '../common/bus/EventBus.ts';
import { detach } from '../common/detach.ts';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { MeetingEvent } from '../common/protocol.ts';
import type { MeetingServices } from '../meeting/services.ts';
import { Call, tagOf } from './Call.ts';
import { DialOut } from './DialOut.ts';
import { DialPolicy } from './DialPolicy.ts';
import { Dialogs } from './Dialogs.ts';
import { Ivr } from './Ivr.ts';
import { MeetingLeg } from './MeetingLeg.ts';
import { PinGuard } from './PinGuard.ts';
import { RtpSession } from './RtpSession.ts';
import { buildSdp, negotiate, parseAudio } from './sdp.ts';
import type { ServerTransaction, SipHandler, SipServer } from './SipServer.ts';
import { checkUri } from './sipValidate.ts';
import type { Flow } from './SipTransport.ts';
import type { TrunkAuth } from './TrunkAuth.ts';

export interface GatewayOptions {
  nodeId: string;
  listenIp: string;
  announcedAddress?: string;
  sipPort: number;
  rtpTimeoutMs: number;
  maxCalls: number;
  /** Calls one trunk (an allowlisted address or a digest user) may hold at once. */
  maxCallsPerTrunk: number;
  /** Phone calls one meeting may hold at once. */
  maxCallsPerMeeting: number;
  inviteRate: number;
  ivrTries: number;
  /** Wrong PINs a trunk may send a minute before its PIN lookups are refused for a while. */
  pinGuesses: number;
  /** Dial-out destinations: host names, `*.domain`, addresses, CIDR blocks; empty: none. */
  dialAllowlist: string;
  /** Dial-outs a meeting may start a minute. */
  dialRate: number;
  /** A dial-out still ringing after this long is cancelled. */
  dialTimeoutMs: number;
}

export const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO';
const PIN = /^\d{6,12}$/;
/** How long closing waits for the phones to answer our BYEs. */
const CLOSE_WAIT_MS = 2000;

/**
 * Turns telephone calls into meeting participants: dial-in by PIN in the request URI or through
 * the IVR, dial-out on a host's request (DialOut), and the end of calls from either side or by
 * silence. Every request passes the trunk policy; in-dialog requests must match their dialog.
 */
export class Gateway implements SipHandler {
  readonly calls = new Dialogs();
  readonly #limiter: RateLimiterMemory;
  readonly #pins: PinGuard;
  readonly #leg: MeetingLeg;
  readonly #dialOut: DialOut;
  #server?: SipServer;
  readonly #timer: NodeJS.Timeout;

  private readonly services: MeetingServices;
  private readonly auth: TrunkAuth;
  private readonly options: GatewayOptions;
  private readonly logger: Logger;
  constructor(services: MeetingServices, bus: EventBus, auth: TrunkAuth, options: GatewayOptions, logger: Logger) {
    this.services = services;
    this.auth = auth;
    this.options = options;
    this.logger = logger;
    this.#limiter = new RateLimiterMemory({ points: options.inviteRate, duration: 1 });
    this.#pins = new PinGuard(options.pinGuesses);
    this.#leg = new MeetingLeg(services, bus, options, logger);
    this.#dialOut = new DialOut(
      {
        server: () => this.#server!,
        calls: this.calls,
        address: () => this.#address,
        join: (call, meetingId) => this.#join(call, meetingId),
        hangUp: (call, reason) => this.#hangUp(call, reason),
        forget: (call) => this.#forget(call),
      },
      new DialPolicy(options.dialAllowlist, options.dialRate),
      options,
      logger,
    );
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
    const { request, flow } = tx;
    if (request.method === 'CANCEL') {
      this.#cancel(tx);
      return;
    }
    if (tagOf(request.headers.to) !== undefined) {
      this.#inDialog(tx);
      return;
    }
    if (request.method === 'INVITE') {
      detach(this.logger, 'INVITE', this.#admit(tx));
      return;
    }
    const verdict = this.auth.check(request, flow.address);
    if (!verdict.ok) {
      refuse(tx, verdict);
      return;
    }
    switch (request.method) {
      case 'OPTIONS':
        tx.reply(200, 'OK', { headers: { allow: ALLOW, accept: 'application/sdp' } });
        return;
      case 'BYE':
      case 'INFO':
        tx.reply(481, 'Call/Transaction Does Not Exist');
        return;
      default:
        tx.reply(405, 'Method Not Allowed', { headers: { allow: ALLOW } });
    }
  }

  onAck(request: SipMessage, flow: Flow): void {
    const call = this.calls.match(request, flow);
    if (!call) return;
    call.confirmed = true;
    call.stopRetransmit?.();
    call.rtp.lastReceivedAt = Date.now();
  }

  /** Dial-out: calls `uri` and puts whoever answers into the meeting. */
  async dial(meetingId: string, uri: string): Promise<{ callId: string }> {
    return this.#dialOut.dial(meetingId, uri, (id) => this.services.meetings.get(id));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const wait = (work: Promise<void>) => Promise.race([work, new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    await Promise.all([...this.calls.values()].map((call) => wait(this.#hangUp(call, 'gateway shutting down'))));
  }

  /** A request inside a dialog: it must match the dialog, and pass the trunk's policy again. */
  #inDialog(tx: ServerTransaction): void {
    const { request, flow } = tx;
    const call = this.calls.match(request, flow);
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
        detach(this.logger, 'ending a call', this.#end(call));
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

  /** A new call: limits, trunk policy, SDP, then the PIN in the request URI or the IVR. */
  async #admit(tx: ServerTransaction): Promise<void> {
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
    const verdict = this.auth.check(request, flow.address);
    if (!verdict.ok) {
      refuse(tx, verdict);
      return;
    }
    const { trunk } = verdict;
    if (tagOf(request.headers.from) === undefined) {
      tx.reply(400, 'Bad Request - From tag missing');
      return;
    }
    if (this.calls.size >= this.options.maxCalls || this.calls.count((c) => c.trunk === trunk) >= this.options.maxCallsPerTrunk) {
      tx.reply(503, 'Service Unavailable', { headers: { 'retry-after': 30 } });
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
    const dialed = checkUri(request.uri)?.user ?? '';
    let meetingId: string | null = null;
    if (PIN.test(dialed)) {
      meetingId = await this.#meetingForPin(trunk, dialed);
      if (!meetingId) {
        tx.reply(404, 'Not Found');
        return;
      }
      if (this.calls.count((c) => c.meetingId === meetingId) >= this.options.maxCallsPerMeeting) {
        tx.reply(486, 'Busy Here');
        return;
      }
    }
    if (this.calls.has(callId)) {
      tx.reply(482, 'Loop Detected');
      return;
    }
    tx.reply(100, 'Trying');

    const rtp = new RtpSession(negotiated, this.options.listenIp);
    const caller = checkUri(request.headers.from.uri)?.user ?? '';
    const call = new Call(callId, flow, 'in', caller, rtp, {
      localParty: { ...request.headers.to, params: { ...request.headers.to.params, tag: this.#server!.tag } },
      remoteParty: request.headers.from,
      remoteTarget: request.headers.contact?.[0]?.uri ?? request.headers.from.uri,
      routeSet: request.headers['record-route'] ?? [],
    });
    call.trunk = trunk;
    // Counted from now on, so that concurrent INVITEs cannot pass the limits together.
    call.meetingId = meetingId ?? undefined;
    this.calls.add(call);
    const ports = await rtp.open();
    rtp.on('dtmf', (digit) => detach(this.logger, 'DTMF digit', this.#digit(call, digit)));

    if (meetingId) {
      try {
        await this.#join(call, meetingId);
      } catch (error) {
        this.#forget(call);
        const [status, reason] = sipStatusFor(error);
        if (status === 404) this.#pins.miss(trunk);
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

  /**
   * The meeting behind a PIN, or null: unknown, or the trunk has guessed too often lately (then
   * a right PIN is refused like a wrong one).
   */
  async #meetingForPin(trunk: string, pin: string): Promise<string | null> {
    if (this.#pins.blocked(trunk)) return null;
    const meetingId = await this.services.repo.meetingIdForPin(pin);
    if (!meetingId) this.#pins.miss(trunk);
    return meetingId;
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

  #cancel(tx: ServerTransaction): void {
    // Calls are answered at once, so a CANCEL usually finds the INVITE already answered:
    // the caller then ends the call with BYE. One still unconfirmed is dropped here.
    const call = this.calls.matchCancel(tx.request, tx.flow);
    if (!call) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    tx.reply(200, 'OK');
    if (!call.confirmed) detach(this.logger, 'ending a cancelled call', this.#end(call));
  }

  #info(tx: ServerTransaction, call: Call): void {
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
    const meetingId = await this.#meetingForPin(call.trunk, pin);
    if (meetingId && call.state === 'ivr') {
      if (this.calls.count((c) => c.meetingId === meetingId) >= this.options.maxCallsPerMeeting) {
        this.logger.info({ callId: call.callId, meetingId }, 'meeting at its phone call limit');
      } else {
        try {
          await this.#join(call, meetingId);
          return;
        } catch (error) {
          this.#pins.miss(call.trunk);
          this.logger.info({ callId: call.callId, err: error }, 'IVR join refused');
        }
      }
    }
    if (call.state !== 'ivr') return;
    if (call.ivr.rejected()) {
      this.logger.info({ callId: call.callId, tries: call.ivr.tries }, 'wrong PIN; caller may try again');
      return;
    }
    this.logger.info({ callId: call.callId }, 'too many wrong PINs; hanging up');
    await this.#hangUp(call, 'wrong PIN');
  }

  #join(call: Call, meetingId: string): Promise<void> {
    return this.#leg.join(call, meetingId, (c, event) => this.#onMeetingEvent(c, event));
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
    if (call.direction === 'out' && !call.confirmed) {
      // Still ringing: CANCEL it; a 2xx that crosses the CANCEL is ACKed and ended by DialOut.
      this.#dialOut.cancel(call);
      return;
    }
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
    call.state = 'ended';
    this.#forget(call);
    await this.#leg.leave(call);
  }

  #forget(call: Call): void {
    call.stopRetransmit?.();
    call.rtp.close();
    this.calls.delete(call);
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
}

function refuse(tx: ServerTransaction, verdict: { status: 401 | 403; challenge?: SipMessage['headers'] }): void {
  if (verdict.status === 401) tx.reply(401, 'Unauthorized', { headers: verdict.challenge });
  else tx.reply(403, 'Forbidden');
}

/**
 * The SIP answer for a meeting-side refusal. A meeting that ended answers like one that never
 * was, so that PIN guessing cannot tell them apart.
 */
function sipStatusFor(error: unknown): [number, string] {
  if (!(error instanceof AppError)) return [500, 'Server Internal Error'];
  switch (error.code) {
    case 'meeting_not_found':
    case 'meeting_ended':
      return [404, 'Not Found'];
    case 'meeting_locked':
    case 'forbidden':
      return [403, 'Forbidden'];
    case 'meeting_full':
      return [486, 'Busy Here'];
    default:
      return [503, 'Service Unavailable'];
  }
}
