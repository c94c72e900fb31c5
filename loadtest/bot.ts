import { performance } from 'node:perf_hooks';
import type { ConveneClient, MediaTrack, RemoteTrack } from '@convene/sdk';

import { ConveneClient as Client, wrtc } from '@convene/sdk/node';

const SAMPLE_RATE = 48_000;
const FRAME_MS = 10;
const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
/** Frames sent at once at most, so a stalled event loop does not turn into a burst of audio. */
const MAX_CATCH_UP_FRAMES = 5;
const TONE_AMPLITUDE = 8000;

export interface BotOptions {
  baseUrl: string;
  meetingId: string;
  name: string;
  /** Publish a tone as 'mic' (default true); false makes a listener. */
  publish?: boolean;
  /** Frequency of the published sine tone. */
  toneHz?: number;
  /** How often inbound stats are polled while a consumer has not yet received RTP. */
  pollMs?: number;
  /** A consumer that gets no RTP within this long stops being polled (and never gets a mark). */
  firstRtpTimeoutMs?: number;
}

/** `performance.now()` timestamps, comparable across bots in one process. */
export interface BotMarks {
  /** Taken before the HTTP join call. */
  joinRequested: number;
  /** Seat taken and receive transport created. */
  joined?: number;
  /** The tone's producer exists on the server. */
  published?: number;
  /** First inbound RTP from any remote producer. */
  firstRtp?: number;
  /** First inbound RTP per remote participant id. */
  firstRtpFrom: Map<string, number>;
}

export interface Bot {
  client: ConveneClient;
  marks: BotMarks;
  /** Resolves with the mark once RTP from `participantId` (or anyone, if omitted) has arrived. */
  waitForRtp(participantId?: string, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startBot(options: BotOptions): Promise<Bot> {
  const pollMs = options.pollMs ?? 25;
  const firstRtpTimeoutMs = options.firstRtpTimeoutMs ?? 30_000;
  const marks: BotMarks = { joinRequested: performance.now(), firstRtpFrom: new Map() };
  const client = await Client.join({
    baseUrl: options.baseUrl,
    meetingId: options.meetingId,
    name: options.name,
    handlerName: 'Chrome111',
    kind: 'bot',
    willPublish: options.publish !== false,
  });
  marks.joined = performance.now();

  let stopped = false;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const wake of [...waiters]) wake();
  };

  // Consumers still waiting for their first packet, keyed by SSRC: under @roamhq/wrtc,
  // consumer.getStats() (RTCRtpReceiver.getStats) is not implemented and the rejected call
  // aborts Node at exit, so inbound-rtp is read from the receive transport's report instead.
  const pending = new Map<number, { remote: RemoteTrack; deadline: number }>();
  let polling = false;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      while (!stopped && pending.size > 0) {
        const transport = client.transports.recv;
        const report = transport && !transport.closed ? await transport.getStats().catch(() => undefined) : undefined;
        const now = performance.now();
        for (const stats of report?.values() ?? []) {
          if (stats.type !== 'inbound-rtp' || !(stats.bytesReceived > 0 || stats.packetsReceived > 0)) continue;
          const entry = pending.get(stats.ssrc);
          if (!entry) continue;
          pending.delete(stats.ssrc);
          marks.firstRtp ??= now;
          if (!marks.firstRtpFrom.has(entry.remote.participantId)) marks.firstRtpFrom.set(entry.remote.participantId, now);
          notify();
        }
        for (const [ssrc, entry] of pending) if (now > entry.deadline || entry.remote.consumer.closed) pending.delete(ssrc);
        if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    } finally {
      polling = false;
    }
  };
  const watch = (remote: RemoteTrack) => {
    const ssrc = remote.consumer.rtpParameters.encodings?.[0]?.ssrc;
    if (stopped || ssrc === undefined) return;
    pending.set(ssrc, { remote, deadline: performance.now() + firstRtpTimeoutMs });
    void poll();
  };
  client.on('track', watch);
  for (const remote of client.remoteTracks.values()) watch(remote);

  const tone = options.publish === false ? undefined : startTone(options.toneHz ?? 440);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    pending.clear();
    notify();
    try {
      await client.leave();
    } finally {
      tone?.stop();
    }
  };

  if (tone) {
    try {
      await client.publish(tone.track, 'mic');
      marks.published = performance.now();
    } catch (error) {
      await stop();
      throw error;
    }
  }

  const waitForRtp = (participantId?: string, timeoutMs = firstRtpTimeoutMs) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const mark = participantId === undefined ? marks.firstRtp : marks.firstRtpFrom.get(participantId);
        if (mark !== undefined) done(() => resolve(mark));
        else if (stopped) done(() => reject(new Error(`${options.name}: stopped before RTP arrived`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${options.name}: no RTP from ${participantId ?? 'anyone'} in ${timeoutMs} ms`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  return { client, marks, waitForRtp, stop };
}

/** A sine tone as a live audio track; stopping it matters, as a live track keeps Node running. */
function startTone(hz: number): { track: MediaTrack; stop(): void } {
  const source = new wrtc.nonstandard.RTCAudioSource();
  const track = source.createTrack();
  const step = (2 * Math.PI * hz) / SAMPLE_RATE;
  const start = performance.now();
  let phase = 0;
  let framesSent = 0;
  // setInterval drifts late under load; sending what the wall clock owes keeps the stream real-time.
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - start) / FRAME_MS);
    const send = Math.min(due - framesSent, MAX_CATCH_UP_FRAMES);
    for (let f = 0; f < send; f++) {
      const samples = new Int16Array(FRAME_SAMPLES);
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        samples[i] = Math.round(TONE_AMPLITUDE * Math.sin(phase));
        phase += step;
      }
      phase %= 2 * Math.PI;
      source.onData({ samples, sampleRate: SAMPLE_RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: FRAME_SAMPLES });
    }
    framesSent = due;
  }, FRAME_MS);
  return {
    track,
    stop: () => {
      clearInterval(timer);
      track.stop();
    },
  };
}
