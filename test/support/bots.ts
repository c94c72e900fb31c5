import type { ConveneClient, JoinOptions } from '@convene/sdk';

import { ConveneClient as Client, wrtc } from '@convene/sdk/node';

// @roamhq/wrtc aborts Node in its native teardown at a natural exit once an RTCAudioSource has
// existed (a known issue of the binding). Every result has been reported by the time the loop
// runs dry, so the test process ends itself first.
process.once('beforeExit', () => process.exit(process.exitCode ?? 0));

export interface TestBot {
  client: ConveneClient;
  id: string;
  /** Inbound RTP bytes from every consumer of this participant's producers. */
  bytesFrom(participantId: string): Promise<number>;
  /** The loudest inbound audio level (0..1, WebRTC's audioLevel) from this participant now. */
  levelFrom(participantId: string): Promise<number>;
  stop(): Promise<void>;
}

/** A headless participant on @roamhq/wrtc that publishes a sine tone as its microphone. */
export async function startTestBot(options: Omit<JoinOptions, 'handlerName'> & { toneHz?: number }): Promise<TestBot> {
  const client = await Client.join({ ...options, handlerName: 'Chrome111', kind: 'bot' });
  const source = new wrtc.nonstandard.RTCAudioSource();
  const track = source.createTrack();
  const step = (2 * Math.PI * (options.toneHz ?? 440)) / 48_000;
  let phase = 0;
  const tone = setInterval(() => {
    const samples = new Int16Array(480);
    for (let i = 0; i < 480; i++) {
      samples[i] = Math.round(8000 * Math.sin(phase));
      phase += step;
    }
    phase %= 2 * Math.PI;
    source.onData({ samples, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
  }, 10);
  await client.publish(track, 'mic');
  let stopped = false;
  return {
    client,
    id: client.participantId,
    // wrtc lacks RTCRtpReceiver.getStats, so read the receive transport's report by SSRC.
    bytesFrom: (participantId) => inbound(participantId, 'bytesReceived', (a, b) => a + b),
    levelFrom: (participantId) => inbound(participantId, 'audioLevel', Math.max),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(tone);
      await client.leave().catch(() => undefined);
      track.stop();
    },
  };

  async function inbound(participantId: string, field: string, combine: (a: number, b: number) => number): Promise<number> {
    const transport = client.transports.recv;
      if (!transport || transport.closed) return 0;
      const ssrcs = new Set<number>();
      for (const remote of client.remoteTracks.values()) {
        const ssrc = remote.consumer.rtpParameters.encodings?.[0]?.ssrc;
        if (remote.participantId === participantId && ssrc !== undefined) ssrcs.add(ssrc);
      }
      if (ssrcs.size === 0) return 0;
      const report = await transport.getStats().catch(() => undefined);
      let value = 0;
      for (const s of report?.values() ?? []) if (s.type === 'inbound-rtp' && ssrcs.has(s.ssrc)) value = combine(value, Number(s[field] ?? 0));
      return value;
  }
}
