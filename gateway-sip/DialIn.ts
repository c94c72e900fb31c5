import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { SipMessage } from 'sip';
import { detach } from '../common/detach.ts';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { CallHost } from './CallHost.ts';
import { Call, tagOf } from './Call.ts';
import { Ivr } from './Ivr.ts';
import { PinGuard } from './PinGuard.ts';
import { RtpSession } from './RtpSession.ts';
import { buildSdp, negotiate, parseAudio } from './sdp.ts';
import type { ServerTransaction } from './SipServer.ts';
import { checkUri } from './sipValidate.ts';
import type { TrunkAuth } from './TrunkAuth.ts';

export interface DialInOptions {
  listenIp: string;
  sipPort: number;
  maxCalls: number;
  maxCallsPerTrunk: number;
  maxCallsPerMeeting: number;
  inviteRate: number;
  ivrTries: number;
  pinGuesses: number;
}

export const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO';
const PIN = /^\d{6,12}$/;

/**
 * Calls from phones (RFC 3261 as a UAS): an INVITE passes the rate, the trunk policy and the
 * limits, is answered at once, and joins the meeting of the PIN in its request URI, or enters
 * the IVR that collects one. PIN lookups are limited per trunk (PinGuard).
 */
export class DialIn {
  readonly #limiter: RateLimiterMemory;
  readonly #pins: PinGuard;
  private readonly host: CallHost;
  private readonly auth: TrunkAuth;
  private readonly pinLookup: (pin: string) => Promise<string | null>;
  private readonly options: DialInOptions;
  private readonly logger: Logger;

  constructor(host: CallHost, auth: TrunkAuth, pinLookup: (pin: string) => Promise<string | null>, options: DialInOptions, logger: Logger) {
    this.host = host;
    this.auth = auth;
    this.pinLookup = pinLookup;
    this.options = options;
    this.logger = logger;
    this.#limiter = new RateLimiterMemory({ points: options.inviteRate, duration: 1 });
    this.#pins = new PinGuard(options.pinGuesses);
  }

  /** A new call: limits, trunk policy, SDP, then the PIN in the request URI or the IVR. */
  async admit(tx: ServerTransaction): Promise<void> {
    const { request, flow } = tx;
    const callId: string = request.headers['call-id'];
    if (this.host.calls.has(callId)) {
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
    // Draining (SIGTERM): Kamailio sends a call refused with a 5xx to the next gateway.
    if (this.host.draining()) {
      tx.reply(503, 'Service Unavailable - draining');
      return;
    }
    if (this.host.calls.size >= this.options.maxCalls || this.host.calls.count((c) => c.trunk === trunk) >= this.options.maxCallsPerTrunk) {
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
      if (this.host.calls.count((c) => c.meetingId === meetingId) >= this.options.maxCallsPerMeeting) {
        tx.reply(486, 'Busy Here');
        return;
      }
    }
    if (this.host.calls.has(callId)) {
      tx.reply(482, 'Loop Detected');
      return;
    }
    tx.reply(100, 'Trying');

    const rtp = new RtpSession(negotiated, this.options.listenIp);
    const caller = checkUri(request.headers.from.uri)?.user ?? '';
    const call = new Call(callId, flow, 'in', caller, rtp, {
      localParty: { ...request.headers.to, params: { ...request.headers.to.params, tag: this.host.server().tag } },
      remoteParty: request.headers.from,
      remoteTarget: request.headers.contact?.[0]?.uri ?? request.headers.from.uri,
      routeSet: request.headers['record-route'] ?? [],
    });
    call.trunk = trunk;
    // Counted from now on, so that concurrent INVITEs cannot pass the limits together.
    call.meetingId = meetingId ?? undefined;
    this.host.calls.add(call);
    let ports: { phonePort: number };
    try {
      ports = await rtp.open();
    } catch (error) {
      this.host.forget(call);
      throw error;
    }
    rtp.on('dtmf', (digit) => detach(this.logger, 'DTMF digit', this.digit(call, digit)));

    if (meetingId) {
      try {
        await this.host.join(call, meetingId);
      } catch (error) {
        this.host.forget(call);
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
      address: this.host.address(),
      port: ports.phonePort,
      codecs: [{ name: negotiated.codec, payloadType: negotiated.payloadType }],
      telephoneEvent: negotiated.telephoneEvent,
      sessionId: String(Date.now()),
    });
    const ok = tx.reply(200, 'OK', {
      headers: {
        contact: [{ uri: `sip:convene@${this.host.address()}:${this.options.sipPort}${flow.protocol === 'TCP' ? ';transport=tcp' : ''}` }],
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
    const meetingId = await this.pinLookup(pin);
    if (!meetingId) this.#pins.miss(trunk);
    return meetingId;
  }

  async digit(call: Call, digit: string): Promise<void> {
    if (call.state !== 'ivr' || !call.ivr) return;
    const pin = call.ivr.push(digit);
    if (!pin) return;
    const meetingId = await this.#meetingForPin(call.trunk, pin);
    if (meetingId && call.state === 'ivr') {
      if (this.host.calls.count((c) => c.meetingId === meetingId) >= this.options.maxCallsPerMeeting) {
        this.logger.info({ callId: call.callId, meetingId }, 'meeting at its phone call limit');
      } else {
        try {
          await this.host.join(call, meetingId);
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
    await this.host.hangUp(call, 'wrong PIN');
  }

  #retransmitUntilAck(call: Call, response: SipMessage): void {
    let interval = 500;
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    const again = () => {
      if (call.confirmed || call.state === 'ended') return;
      if (Date.now() - started > 32_000) {
        detach(this.logger, 'hanging up', this.host.hangUp(call, 'no ACK'));
        return;
      }
      this.host.server().transport.send(response, call.flow);
      interval = Math.min(interval * 2, 4000);
      timer = setTimeout(again, interval);
    };
    timer = setTimeout(again, interval);
    call.stopRetransmit = () => clearTimeout(timer);
  }
}

export function refuse(tx: ServerTransaction, verdict: { status: 401 | 403; challenge?: SipMessage['headers'] }): void {
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
