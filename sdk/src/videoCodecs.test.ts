import type { types as ms } from 'mediasoup-client';
import { describe, expect, it } from 'vitest';
import { restrictVideoCodecs, sendCodec } from './videoCodecs.ts';

const caps: ms.RtpCapabilities = {
  codecs: [
    { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 100 },
    { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 101 },
    { kind: 'video', mimeType: 'video/rtx', clockRate: 90000, preferredPayloadType: 102, parameters: { apt: 101 } },
    { kind: 'video', mimeType: 'video/H264', clockRate: 90000, preferredPayloadType: 103, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } },
    { kind: 'video', mimeType: 'video/rtx', clockRate: 90000, preferredPayloadType: 104, parameters: { apt: 103 } },
    { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, preferredPayloadType: 105, parameters: { 'profile-id': 0 } },
    { kind: 'video', mimeType: 'video/rtx', clockRate: 90000, preferredPayloadType: 106, parameters: { apt: 105 } },
  ],
  headerExtensions: [],
};

describe('video codec capabilities', () => {
  it('keeps only the allowed video codecs with their RTX, and all audio', () => {
    const restricted = restrictVideoCodecs(caps, ['h264']);
    expect(restricted.codecs?.map((c) => c.preferredPayloadType)).toEqual([100, 103, 104]);
    expect(caps.codecs).toHaveLength(7);
  });

  it('finds the capability to produce with, H264 only in packetization-mode 1', () => {
    expect(sendCodec(caps, 'vp9')?.preferredPayloadType).toBe(105);
    expect(sendCodec(caps, 'h264')?.preferredPayloadType).toBe(103);
    expect(sendCodec(caps, undefined)).toBeUndefined();
    expect(sendCodec(restrictVideoCodecs(caps, ['vp8']), 'h264')).toBeUndefined();
  });
});
