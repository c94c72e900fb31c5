/**
 * Per-source jitter buffer for RTP audio sent one 20 ms frame per packet. Packets go in as they
 * arrive; the mixer takes one frame out per 20 ms tick. Ordering is by sequence number alone:
 * timestamps are carried through for the caller but not trusted for playout.
 */

export interface JitterBufferOptions {
  /** Frames to gather before playout starts, and starts again after an underrun. Default 3 (60 ms). */
  targetDelayFrames?: number;
  /** Buffered frames beyond which the oldest are dropped to get back to the target delay. Default 10. */
  maxDelayFrames?: number;
  /** Ticks without a packet after which the source is forgotten and its next packet starts afresh. Default 50 (1 s). */
  resetAfterIdleTicks?: number;
  /** Sequence distance that marks a restarted sender rather than loss or lateness. Default 100. */
  maxSequenceJump?: number;
}

export interface JitterBufferStats {
  received: number;
  played: number;
  /** Frames never received in time, reported as `{ lost: true }` or skipped over. */
  lost: number;
  /** Packets that arrived after their frame was played or given up on. */
  late: number;
  duplicates: number;
  /** Frames dropped to bound the delay, and stray packets far outside the sequence. */
  discarded: number;
  /** Times the buffer ran dry while playing. */
  underruns: number;
  /** Times the buffer started over: sender restart or a long silence. */
  resets: number;
}

export type JitterFrame = { payload: Buffer; sequenceNumber: number; timestamp: number } | { lost: true; sequenceNumber: number };

export interface JitterPacket {
  sequenceNumber: number;
  timestamp: number;
  payload: Buffer;
}

// Remembers which recent frames were played, to tell a late duplicate from a late original.
const PLAYED_HISTORY = 128;

/** Signed distance from b to a on the 16-bit sequence circle, in -32768..32767. */
function sequenceDistance(a: number, b: number): number {
  return ((a - b + 0x18000) & 0xffff) - 0x8000;
}

function slot(extended: number): number {
  return ((extended % PLAYED_HISTORY) + PLAYED_HISTORY) % PLAYED_HISTORY;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`JitterBuffer ${name} must be a positive integer, got ${value}`);
  return value;
}

export class JitterBuffer {
  private readonly targetDelay: number;
  private readonly maxDelay: number;
  private readonly resetAfterIdle: number;
  private readonly maxJump: number;
  private readonly counters: JitterBufferStats = { received: 0, played: 0, lost: 0, late: 0, duplicates: 0, discarded: 0, underruns: 0, resets: 0 };

  // Sequence numbers are unwrapped ("extended") past 65535 so ordering is plain integer comparison.
  private readonly frames = new Map<number, JitterPacket>();
  private highest = 0;
  /** The next frame to play; null until the first packet after a reset. */
  private expected: number | null = null;
  /** Whether anything at or after `expected` has been played or skipped, so earlier packets are late. */
  private committed = false;
  private playing = false;
  private waitedTicks = 0;
  private idleTicks = 0;
  private readonly played = new Float64Array(PLAYED_HISTORY).fill(Number.NaN);
  /** A packet far from the stream, kept in case the next one confirms a sender restart. */
  private probe: JitterPacket | null = null;

  constructor(options: JitterBufferOptions = {}) {
    this.targetDelay = positiveInteger('targetDelayFrames', options.targetDelayFrames ?? 3);
    this.maxDelay = positiveInteger('maxDelayFrames', options.maxDelayFrames ?? Math.max(10, this.targetDelay + 7));
    this.resetAfterIdle = positiveInteger('resetAfterIdleTicks', options.resetAfterIdleTicks ?? 50);
    this.maxJump = positiveInteger('maxSequenceJump', options.maxSequenceJump ?? 100);
    if (this.maxDelay < this.targetDelay) throw new RangeError('JitterBuffer maxDelayFrames must be at least targetDelayFrames');
  }

  get stats(): JitterBufferStats {
    return { ...this.counters };
  }

  /** Frames held, not counting gaps. */
  get size(): number {
    return this.frames.size;
  }

  push(packet: JitterPacket): void {
    this.counters.received++;
    this.idleTicks = 0;
    const sequenceNumber = packet.sequenceNumber & 0xffff;
    const entry = { sequenceNumber, timestamp: packet.timestamp, payload: packet.payload };
    if (this.expected === null) {
      this.expected = sequenceNumber;
      this.insert(sequenceNumber, entry);
      return;
    }
    const distance = sequenceDistance(sequenceNumber, this.expected & 0xffff);
    if (Math.abs(distance) > this.maxJump) {
      this.farPacket(entry);
      return;
    }
    this.probe = null;
    const extended = this.expected + distance;
    if (extended < this.expected) {
      if (this.committed) {
        if (this.played[slot(extended)] === extended) this.counters.duplicates++;
        else this.counters.late++;
        return;
      }
      // Still gathering the first frames: an earlier packet that overtook by reordering starts playout.
      this.expected = extended;
    }
    if (this.frames.has(extended)) {
      this.counters.duplicates++;
      return;
    }
    this.insert(extended, entry);
  }

  /** Call once per 20 ms tick. Null means nothing to play: not started yet, underrun, or a silent source. */
  pop(): JitterFrame | null {
    this.idleTicks++;
    if (this.frames.size === 0) {
      if (this.playing) {
        this.playing = false;
        this.counters.underruns++;
      }
      this.waitedTicks = 0;
      if (this.expected !== null && this.idleTicks >= this.resetAfterIdle) {
        this.clear();
        this.counters.resets++;
      }
      return null;
    }
    this.boundDelay();
    if (!this.playing && !this.startPlayout()) return null;

    const extended = this.expected!;
    this.expected = extended + 1;
    const frame = this.frames.get(extended);
    if (frame) {
      this.frames.delete(extended);
      this.played[slot(extended)] = extended;
      this.counters.played++;
      return { payload: frame.payload, sequenceNumber: frame.sequenceNumber, timestamp: frame.timestamp };
    }
    // Something later is buffered, so this one is missing rather than the source being quiet.
    this.played[slot(extended)] = Number.NaN;
    this.counters.lost++;
    return { lost: true, sequenceNumber: extended & 0xffff };
  }

  /** Forgets the stream, as if no packet had been received; what it held counts as discarded. */
  reset(): void {
    this.clear();
  }

  private clear(): void {
    this.counters.discarded += this.frames.size;
    this.frames.clear();
    this.expected = null;
    this.committed = false;
    this.playing = false;
    this.waitedTicks = 0;
    this.idleTicks = 0;
    this.played.fill(Number.NaN);
    this.probe = null;
  }

  private insert(extended: number, entry: JitterPacket): void {
    if (this.frames.size === 0 || extended > this.highest) this.highest = extended;
    this.frames.set(extended, entry);
  }

  private startPlayout(): boolean {
    this.waitedTicks++;
    let lowest = this.highest;
    for (const extended of this.frames.keys()) if (extended < lowest) lowest = extended;
    // Start once the target is buffered, or once the first frame has waited that long on a sparse stream.
    if (this.highest - lowest + 1 < this.targetDelay && this.waitedTicks < this.targetDelay) return false;
    // Frames between the last one played and the first one buffered never came (a silent source keeps its sequence going).
    if (this.committed) this.counters.lost += lowest - this.expected!;
    this.expected = lowest;
    this.committed = true;
    this.playing = true;
    this.waitedTicks = 0;
    return true;
  }

  /**
   * Skips ahead to the target delay rather than keep extra delay forever, in two cases: a backlog (a
   * network stall releasing its packets at once), whose oldest frames are dropped; and a long gap
   * (an outage), which would otherwise be played out as that many lost frames. Frames buffered before
   * a gap still play first.
   */
  private boundDelay(): void {
    const expected = this.expected!;
    if (this.highest - expected + 1 <= this.maxDelay) return;
    if (this.frames.has(expected) && this.frames.size <= this.maxDelay) return;
    const resumeAt = this.highest - this.targetDelay + 1;
    for (let extended = expected; extended < resumeAt; extended++) {
      if (this.frames.delete(extended)) this.counters.discarded++;
      else this.counters.lost++;
    }
    this.expected = resumeAt;
    this.committed = true;
  }

  /**
   * Either a stray (very late, or corrupt) packet, or the first of a restarted sender. Two in a row
   * in sequence mean a restart (the RFC 3550 A.1 probation rule); until then the packet is dropped.
   */
  private farPacket(entry: JitterPacket): void {
    const probe = this.probe;
    if (probe && entry.sequenceNumber === ((probe.sequenceNumber + 1) & 0xffff)) {
      this.clear();
      this.counters.resets++;
      this.counters.discarded--;
      this.expected = probe.sequenceNumber;
      this.insert(probe.sequenceNumber, probe);
      this.insert(probe.sequenceNumber + 1, entry);
      return;
    }
    this.probe = entry;
    this.counters.discarded++;
  }
}
