import { describe, expect, it } from 'vitest';
import { canReceiveVideo, chooseVideoCodec, decodableVideoCodecs } from './videoCodecs.ts';

const vp8 = { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 };
const vp9 = { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 0 } };
const h264 = (mode: number) => ({ kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': mode, 'profile-level-id': '42e01f' } });
const opus = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 };

describe('the video codecs a device decodes', () => {
  it('reads them from rtpCapabilities, in preference order, ignoring audio and retransmission', () => {
    const caps = { codecs: [opus, vp9, { kind: 'video', mimeType: 'video/rtx', clockRate: 90000 }, h264(1), vp8] };
    expect(decodableVideoCodecs(caps)).toEqual(['vp8', 'h264', 'vp9']);
  });

  it('counts H264 only with packetization-mode 1, the mode the router offers', () => {
    expect(decodableVideoCodecs({ codecs: [h264(0)] })).toEqual([]);
    expect(decodableVideoCodecs({ codecs: [h264(0), h264(1)] })).toEqual(['h264']);
  });

  it('finds nothing in capabilities that are empty or not shaped like codecs', () => {
    expect(decodableVideoCodecs({})).toEqual([]);
    expect(decodableVideoCodecs({ codecs: 'vp8' })).toEqual([]);
    expect(decodableVideoCodecs({ codecs: [null, 7, { mimeType: 42 }, opus] })).toEqual([]);
  });
});

describe('choosing the meeting codec', () => {
  it('uses a set codec whoever is there', () => {
    expect(chooseVideoCodec('h264', [['vp8']])).toBe('h264');
    expect(chooseVideoCodec('vp9', [])).toBe('vp9');
  });

  it('prefers VP8 under auto when everyone decodes it, and with nobody there', () => {
    expect(chooseVideoCodec('auto', [])).toBe('vp8');
    expect(chooseVideoCodec('auto', [['vp8', 'h264', 'vp9'], ['vp8', 'vp9']])).toBe('vp8');
  });

  it('moves to H264 when one device decodes only H264, and to VP9 when only VP9 is common', () => {
    expect(chooseVideoCodec('auto', [['vp8', 'h264', 'vp9'], ['h264']])).toBe('h264');
    expect(chooseVideoCodec('auto', [['vp8', 'vp9'], ['h264', 'vp9']])).toBe('vp9');
  });

  it('takes the codec the most decode when none is common to all', () => {
    expect(chooseVideoCodec('auto', [['vp8'], ['h264'], ['h264']])).toBe('h264');
    expect(chooseVideoCodec('auto', [['vp8'], ['h264']])).toBe('vp8');
  });
});

describe('who can receive video', () => {
  it('under auto, any device that decodes one offered codec', () => {
    expect(canReceiveVideo('auto', ['vp9'])).toBe(true);
    expect(canReceiveVideo('auto', [])).toBe(false);
  });

  it('under a set codec, only devices that decode it', () => {
    expect(canReceiveVideo('h264', ['vp8', 'vp9'])).toBe(false);
    expect(canReceiveVideo('h264', ['h264'])).toBe(true);
  });
});
