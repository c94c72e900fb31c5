import { Upsampler8to48 } from '../audio/resample.ts';

/** 20 ms at 48 kHz: the frame the gateway encodes to Opus, whatever packet time the phone uses. */
export const FRAME_SAMPLES = 960;
/** A timestamp jump past 2 s (at 8 kHz) is a new stream (a re-INVITE, a new SSRC), not loss. */
const RESYNC_SAMPLES = 16_000;

export interface PcmFrame {
  samples: Int16Array;
  /** On the 48 kHz clock of the stream the gateway sends. */
  timestamp: number;
}

/**
 * Cuts the phone's G.711 audio into the 20 ms frames Opus encodes. The phone chooses its packet
 * time (10, 20, 30 or 40 ms, the SDP's `ptime`, which not every phone honours): it is read from
 * each packet's length and RTP timestamp, so whatever arrives comes out as whole frames, each
 * stamped where its first sample belongs. Lost packets move that clock on by their length, so
 * the media node hears a gap and not a jump; a part frame cut by a gap is dropped. A packet
 * older than the last one (reordered, repeated) is dropped too: its time has passed.
 */
export class Reframer {
  readonly #upsampler = new Upsampler8to48();
  #pending = new Int16Array(0);
  #nextIn?: number;
  #outTimestamp: number;

  constructor(startTimestamp: number) {
    this.#outTimestamp = startTimestamp >>> 0;
  }

  /** One packet's samples (8 kHz) and its RTP timestamp; returns the frames now complete. */
  push(timestamp: number, pcm8: Int16Array): PcmFrame[] {
    if (this.#nextIn !== undefined) {
      // Signed distance on the wrapping 32-bit clock.
      const gap = (timestamp - this.#nextIn) | 0;
      if (gap < 0 && gap > -RESYNC_SAMPLES) return [];
      if (gap !== 0) {
        const lost = gap > 0 && gap <= RESYNC_SAMPLES ? gap * 6 : 0;
        this.#outTimestamp = (this.#outTimestamp + this.#pending.length + lost) >>> 0;
        this.#pending = new Int16Array(0);
      }
    }
    this.#nextIn = (timestamp + pcm8.length) >>> 0;
    const pcm48 = this.#upsampler.process(pcm8);
    const all = new Int16Array(this.#pending.length + pcm48.length);
    all.set(this.#pending);
    all.set(pcm48, this.#pending.length);
    const frames: PcmFrame[] = [];
    let at = 0;
    for (; all.length - at >= FRAME_SAMPLES; at += FRAME_SAMPLES) {
      frames.push({ samples: all.slice(at, at + FRAME_SAMPLES), timestamp: this.#outTimestamp });
      this.#outTimestamp = (this.#outTimestamp + FRAME_SAMPLES) >>> 0;
    }
    this.#pending = all.slice(at);
    return frames;
  }
}
