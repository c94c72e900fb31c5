import type { SipMessage } from 'sip';
import type { Ivr } from './Ivr.ts';
import type { RtpSession } from './RtpSession.ts';
import type { Flow } from './SipTransport.ts';

export type CallState = 'answering' | 'ivr' | 'in-meeting' | 'ended';

/** One telephone call: its SIP dialog, its media, and where it sits in the meeting. */
export class Call {
  state: CallState = 'answering';
  /** Set once the 2xx to the INVITE has been acknowledged. */
  confirmed = false;
  meetingId?: string;
  participantId?: string;
  ivr?: Ivr;
  localCseq = Math.floor(Math.random() * 10_000);
  /** The headers our in-dialog requests carry: From is our side, To is the phone's. */
  dialog: { localParty: SipMessage['headers'][string]; remoteParty: SipMessage['headers'][string]; remoteTarget: string; routeSet: unknown[] };
  /** Who the call came through: `ip:<address>` or `user:<digest user>`; `dial-out` for ours. */
  trunk = 'dial-out';
  stopRetransmit?: () => void;
  /** Dial-out: our INVITE, whether it has rung (a provisional came), whether we gave up on it. */
  invite?: SipMessage;
  ringing = false;
  cancelled = false;
  unsubscribe?: () => Promise<void>;

  readonly callId: string;
  readonly flow: Flow;
  readonly direction: 'in' | 'out';
  readonly caller: string;
  readonly rtp: RtpSession;
  constructor(
    callId: string,
    flow: Flow,
    direction: 'in' | 'out',
    caller: string,
    rtp: RtpSession,
    dialog: Call['dialog'],
  ) {
    this.callId = callId;
    this.flow = flow;
    this.direction = direction;
    this.caller = caller;
    this.rtp = rtp;
    this.dialog = dialog;
  }
}

/** The tag of a From or To value, if it has one. */
export function tagOf(party: unknown): string | undefined {
  const tag = (party as { params?: Record<string, unknown> } | undefined)?.params?.tag;
  return typeof tag === 'string' ? tag : undefined;
}

/** What a meeting shows of a phone number: its last digits only. */
export function maskNumber(user: string | undefined): string {
  const digits = (user ?? '').replace(/[^0-9+]/g, '');
  if (digits.length < 4) return 'Phone';
  return `Phone ${'•'.repeat(Math.min(6, digits.length - 4))}${digits.slice(-4)}`;
}
