
import type { SipMessage } from 'sip';
import type { EventBus } from '../common/bus/EventBus.ts';
import { detach } from '../common/detach.ts';
import type { Logger } from '../common/logger.ts';
import type { MeetingEvent } from '../protocol/src/index.ts';
import { type Call, tagOf } from './Call.ts';
import { ALLOW, DialIn, refuse } from './DialIn.ts';
import { DialOut } from './DialOut.ts';
import { DialPolicy } from './DialPolicy.ts';
import { Dialogs } from './Dialogs.ts';
import { InDialog } from './InDialog.ts';
import { type GatewayServices, MeetingLeg } from './MeetingLeg.ts';
import type { ServerTransaction, SipHandler, SipServer } from './SipServer.ts';
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

/** How long closing waits for the phones to answer our BYEs. */
const CLOSE_WAIT_MS = 2000;

/**
 * Turns telephone calls into meeting participants. This class dispatches: new calls to DialIn
 * (PIN in the request URI, or the IVR), dial-out to DialOut, in-dialog requests and CANCEL to
 * InDialog, and ends calls from either side, by the meeting or by silence.
 */
export class Gateway implements SipHandler {
  readonly calls = new Dialogs();
  #draining = false;
  readonly #dialIn: DialIn;
  readonly #leg: MeetingLeg;
  readonly #dialOut: DialOut;
  readonly #inDialog: InDialog;
  #server?: SipServer;
  readonly #timer: NodeJS.Timeout;

  private readonly services: GatewayServices;
  private readonly auth: TrunkAuth;
  private readonly options: GatewayOptions;
  private readonly logger: Logger;
  constructor(services: GatewayServices, bus: EventBus, auth: TrunkAuth, options: GatewayOptions, logger: Logger) {
    this.services = services;
    this.auth = auth;
    this.options = options;
    this.logger = logger;
    this.#leg = new MeetingLeg(services, bus, options, logger);
    const host = {
      server: () => this.#server!,
      calls: this.calls,
      draining: () => this.#draining,
      address: () => this.#address,
      join: (call: Call, meetingId: string) => this.#leg.join(call, meetingId, (c, event) => this.#onMeetingEvent(c, event)),
      hangUp: (call: Call, reason: string) => this.#hangUp(call, reason),
      forget: (call: Call) => this.#forget(call),
    };
    this.#dialIn = new DialIn(host, auth, (pin) => services.repo.meetingIdForPin(pin), options, logger);
    this.#dialOut = new DialOut(host, new DialPolicy(options.dialAllowlist, options.dialRate), options, logger);
    this.#inDialog = new InDialog(
      {
        calls: this.calls,
        address: () => this.#address,
        end: (call) => this.#end(call),
        digit: (call, digit) => this.#dialIn.digit(call, digit),
      },
      auth,
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
      this.#inDialog.cancel(tx);
      return;
    }
    if (tagOf(request.headers.to) !== undefined) {
      this.#inDialog.handle(tx);
      return;
    }
    if (request.method === 'INVITE') {
      // A failure midway still gets the caller a final answer rather than silence.
      const admitted = this.#dialIn.admit(tx).catch((error: unknown) => {
        if (!tx.done) tx.reply(500, 'Server Internal Error');
        throw error;
      });
      detach(this.logger, 'INVITE', admitted);
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

  get draining(): boolean {
    return this.#draining;
  }

  /** Scale-in or update: refuse new calls, keep those in progress (see DialIn.admit). */
  startDraining(): void {
    this.#draining = true;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const wait = (work: Promise<void>) => Promise.race([work, new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    await Promise.all([...this.calls.values()].map((call) => wait(this.#hangUp(call, 'gateway shutting down'))));
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
}
