/**
 * Participants coming and going in a few meetings, socket.io clients without real media: they
 * join through either push node, publish a microphone (a producer with no RTP behind it),
 * consume others, chat, mute and unmute, share a screen for a while, and leave — politely with
 * `leave`, or by vanishing (the seat's grace period then ends it). Each tick changes a little.
 */
import { enter, publishAudio, type Seat, send } from '../../test/support/signalling.ts';

interface Member {
  seat: Seat;
  mic?: string;
  micPaused: boolean;
  screen?: string;
  recvTransport?: string;
}

let ssrc = 900_000;
/** VP8 parameters mediasoup accepts without any video behind them. */
const vp8 = () => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
  headerExtensions: [],
  encodings: [{ ssrc: ssrc++ }],
  rtcp: { cname: `s${ssrc}`, reducedSize: true },
});

export interface ChurnCounts {
  joins: number;
  leaves: number;
  vanished: number;
  chats: number;
  mutes: number;
  screenShares: number;
  consumers: number;
  errors: string[];
}

export class Churn {
  readonly counts: ChurnCounts = { joins: 0, leaves: 0, vanished: 0, chats: 0, mutes: 0, screenShares: 0, consumers: 0, errors: [] };
  readonly #members = new Map<string, Member[]>();
  readonly #apiUrl: string;
  readonly #pushUrls: string[];
  readonly #maxPerMeeting: number;
  #next = 0;

  constructor(apiUrl: string, pushUrls: string[], meetingIds: string[], maxPerMeeting: number) {
    this.#apiUrl = apiUrl;
    this.#pushUrls = pushUrls;
    this.#maxPerMeeting = maxPerMeeting;
    for (const id of meetingIds) this.#members.set(id, []);
  }

  /** One step in every meeting: someone joins or leaves, and someone does something. */
  async tick(): Promise<void> {
    await Promise.all([...this.#members.entries()].map(([meetingId, members]) => this.#step(meetingId, members).catch((error: unknown) => this.#fail(error))));
  }

  /** Everyone still in a meeting leaves with `leave`. */
  async drain(): Promise<void> {
    for (const members of this.#members.values()) {
      // One refused leave must not keep the rest connected.
      for (const member of members.splice(0)) await this.#leave(member, false).catch((error: unknown) => this.#fail(error));
    }
  }

  #fail(error: unknown): void {
    // Keep the first few in full; the count says how many there were.
    if (this.counts.errors.length < 20) this.counts.errors.push(String(error));
    else this.counts.errors[19] = `${String(error)} (and more)`;
  }

  async #step(meetingId: string, members: Member[]): Promise<void> {
    const size = members.length;
    const joining = size < 2 || (size < this.#maxPerMeeting && Math.random() < 0.5);
    if (joining) members.push(await this.#join(meetingId, members));
    else if (size > 0) {
      const [member] = members.splice(Math.floor(Math.random() * size), 1);
      await this.#leave(member!, Math.random() < 0.25);
    }
    const actor = members[Math.floor(Math.random() * members.length)];
    if (!actor) return;
    const roll = Math.random();
    if (roll < 0.5) {
      await this.#ok(send(actor.seat.socket, 'chat', { text: `soak ${this.counts.chats}` }));
      this.counts.chats++;
    } else if (roll < 0.8 && actor.mic) {
      actor.micPaused = !actor.micPaused;
      await this.#ok(send(actor.seat.socket, actor.micPaused ? 'pauseProducer' : 'resumeProducer', { producerId: actor.mic }));
      this.counts.mutes++;
    } else if (actor.screen) {
      await this.#ok(send(actor.seat.socket, 'closeProducer', { producerId: actor.screen }));
      actor.screen = undefined;
    } else if (actor.seat.transportId) {
      actor.screen = (await this.#ok(send<{ producerId: string }>(actor.seat.socket, 'produce', { transportId: actor.seat.transportId, kind: 'video', rtpParameters: vp8(), source: 'screen' }))).producerId;
      this.counts.screenShares++;
    }
  }

  async #join(meetingId: string, others: Member[]): Promise<Member> {
    const push = this.#pushUrls[this.#next++ % this.#pushUrls.length]!;
    const seat = await enter(this.#apiUrl, meetingId, { name: `Soak ${this.#next}` }, {}, push);
    const member: Member = { seat, micPaused: false };
    this.counts.joins++;
    try {
      member.mic = await publishAudio(seat);
      // Subscribe to a few of the microphones already there, as a client would.
      const mics = others.map((o) => o.mic).filter((id): id is string => id !== undefined).slice(0, 3);
      if (mics.length > 0) {
        member.recvTransport = (await this.#ok(send<{ id: string }>(seat.socket, 'createTransport', { direction: 'recv' }))).id;
        for (const producerId of mics) {
          await this.#ok(send(seat.socket, 'consume', { producerId }));
          this.counts.consumers++;
        }
      }
    } catch (error) {
      // A half-made member is not kept: its socket goes, and the seat with it after the grace.
      seat.socket.close();
      throw error;
    }
    return member;
  }

  async #leave(member: Member, vanish: boolean): Promise<void> {
    if (vanish) {
      member.seat.socket.disconnect();
      this.counts.vanished++;
      return;
    }
    try {
      await this.#ok(send(member.seat.socket, 'leave'));
      this.counts.leaves++;
    } finally {
      // Closed even when the leave was refused (a store outage): a client that stayed connected
      // would keep its seat and media for good, and count as a leftover of the server's.
      member.seat.socket.close();
    }
  }

  async #ok<T>(reply: Promise<{ ok: true; data: T } | { ok: false; error: { code: string; message: string } }>): Promise<T> {
    const ack = await reply;
    if (!ack.ok) throw new Error(`${ack.error.code}: ${ack.error.message}`);
    return ack.data;
  }
}
