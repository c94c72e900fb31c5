import { describe, expect, it } from 'vitest';
import { audioLevelDbov, buildRtp, dtmfDigit, parseRtp, parseTelephoneEvent, readAudioLevel } from './rtp.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** A seeded generator, so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Version 2, padding, extension, two CSRCs, marker, payload type 96; a one-byte extension with a
// 2-byte element (id 2) and an audio level element (id 1: voice, level 33), then 3 payload bytes
// and 2 bytes of padding.
const RICH = hex(`
  b2 e0 ff fe  00 01 e2 40  ca fe ba be
  00 00 00 01  00 00 00 02
  be de 00 02  21 aa bb 10  a1 00 00 00
  01 02 03  00 02
`);

describe('parseRtp', () => {
  it('parses a minimal PCMU packet', () => {
    const packet = parseRtp(hex('80 00 12 34 00 00 03 e8 de ad be ef ff ff 7f'));
    expect(packet).toEqual({
      version: 2,
      padding: false,
      marker: false,
      payloadType: 0,
      sequenceNumber: 0x1234,
      timestamp: 1000,
      ssrc: 0xdeadbeef,
      csrcs: [],
      payload: hex('ff ff 7f'),
    });
    expect(packet).not.toHaveProperty('extension');
  });

  it('parses CSRCs, the header extension, the marker and padding', () => {
    const packet = parseRtp(RICH);
    expect(packet).toMatchObject({ padding: true, marker: true, payloadType: 96, sequenceNumber: 0xfffe, timestamp: 123456, ssrc: 0xcafebabe, csrcs: [1, 2] });
    expect(packet?.extension).toEqual({ profile: 0xbede, data: hex('21 aa bb 10 a1 00 00 00') });
    expect(packet?.payload).toEqual(hex('01 02 03'));
  });

  it('accepts an empty payload', () => {
    expect(parseRtp(hex('80 08 00 01 00 00 00 00 00 00 00 01'))?.payload.length).toBe(0);
  });

  it.each([
    ['empty', ''],
    ['shorter than the fixed header', '80 00 00 01 00 00 00 00 00 00 00'],
    ['version 0', '00 00 00 01 00 00 00 00 00 00 00 01 ff'],
    ['version 1', '40 00 00 01 00 00 00 00 00 00 00 01 ff'],
    ['version 3', 'c0 00 00 01 00 00 00 00 00 00 00 01 ff'],
    ['CSRC list past the end', '83 00 00 01 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00 02'],
    ['extension header missing', '90 00 00 01 00 00 00 00 00 00 00 01 be de'],
    ['extension longer than the packet', '90 00 00 01 00 00 00 00 00 00 00 01 be de 00 02 10 01 00 00'],
    ['padding count of zero', 'a0 00 00 01 00 00 00 00 00 00 00 01 ff ff 00'],
    ['padding longer than the payload', 'a0 00 00 01 00 00 00 00 00 00 00 01 ff ff 04'],
    ['padding with no byte to hold its count', 'a0 00 00 01 00 00 00 00 00 00 00 01'],
  ])('returns null for %s', (_, bytes) => {
    expect(parseRtp(hex(bytes))).toBeNull();
  });

  it('returns null for every truncation that cuts into the header, and never throws', () => {
    // Fixed header, CSRCs and extension end at byte 32. Longer cuts may parse, as whatever byte
    // ends them is read as the padding count.
    for (let length = 0; length <= 32; length++) expect(parseRtp(RICH.subarray(0, length))).toBeNull();
    for (let length = 33; length < RICH.length; length++) parseRtp(RICH.subarray(0, length));
  });

  it('returns null for what is not a buffer', () => {
    expect(parseRtp(undefined as unknown as Buffer)).toBeNull();
    expect(parseRtp('800000010000000000000001' as unknown as Buffer)).toBeNull();
  });

  it('accepts a plain Uint8Array', () => {
    const bytes = new Uint8Array(hex('80 00 00 01 00 00 00 00 00 00 00 01 ff'));
    expect(parseRtp(bytes.subarray(0))?.payload).toEqual(hex('ff'));
  });

  it('never throws on random bytes or mutated packets, and keeps the payload inside the packet', () => {
    const random = lcg(42);
    const byte = () => Math.floor(random() * 256);
    const check = (buf: Buffer) => {
      const packet = parseRtp(buf);
      if (!packet) return;
      expect(packet.version).toBe(2);
      const start = packet.payload.byteOffset - buf.byteOffset;
      expect(start).toBeGreaterThanOrEqual(12);
      expect(start + packet.payload.length).toBeLessThanOrEqual(buf.length);
      if (packet.extension) expect(packet.extension.data.byteOffset + packet.extension.data.length).toBeLessThanOrEqual(packet.payload.byteOffset);
    };
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.from(Array.from({ length: Math.floor(random() * 80) }, byte));
      // Half of them get a plausible first byte so the deeper checks run too.
      if (buf.length > 0 && i % 2 === 0) buf[0] = 0x80 | (buf[0]! & 0x3f);
      check(buf);
    }
    const valid = [RICH, buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 160, ssrc: 7, payload: Buffer.alloc(160, 0xff), audioLevel: 30 })];
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.from(valid[i % valid.length]!);
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) buf[Math.floor(random() * buf.length)] = byte();
      check(buf.subarray(0, Math.floor(random() * (buf.length + 1))));
    }
  });
});

describe('buildRtp', () => {
  it('builds the fixed header', () => {
    const packet = buildRtp({ payloadType: 8, sequenceNumber: 0x1234, timestamp: 0x89abcdef, ssrc: 0xdeadbeef, marker: true, payload: hex('d5 d5') });
    expect(packet).toEqual(hex('80 88 12 34 89 ab cd ef de ad be ef d5 d5'));
  });

  it('wraps the sequence number and timestamp', () => {
    const packet = parseRtp(buildRtp({ payloadType: 0, sequenceNumber: 65536 + 3, timestamp: 2 ** 32 + 160, ssrc: 1, payload: Buffer.alloc(0) }));
    expect(packet).toMatchObject({ sequenceNumber: 3, timestamp: 160 });
    expect(parseRtp(buildRtp({ payloadType: 0, sequenceNumber: -1, timestamp: -1, ssrc: 1, payload: Buffer.alloc(0) }))).toMatchObject({
      sequenceNumber: 65535,
      timestamp: 0xffffffff,
    });
  });

  it('adds the RFC 6464 audio level as a one-byte RFC 8285 extension', () => {
    const packet = buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: hex('ff'), audioLevel: 42, voiceActivity: true, audioLevelExtensionId: 3 });
    expect(packet).toEqual(hex('90 00 00 01 00 00 00 02 00 00 00 03 be de 00 01 30 aa 00 00 ff'));
    const parsed = parseRtp(packet)!;
    expect(parsed.payload).toEqual(hex('ff'));
    expect(readAudioLevel(parsed, 3)).toEqual({ level: 42, voiceActivity: true });
    expect(readAudioLevel(parsed, 1)).toBeNull();
  });

  it('uses extension id 1 and no voice activity by default', () => {
    const parsed = parseRtp(buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: hex('ff'), audioLevel: 127 }))!;
    expect(readAudioLevel(parsed)).toEqual({ level: 127, voiceActivity: false });
  });

  it('round-trips through parseRtp', () => {
    const options = { payloadType: 111, sequenceNumber: 65535, timestamp: 4294967295, ssrc: 0xffffffff, marker: true, payload: Buffer.from('opus frame'), audioLevel: 0 };
    const parsed = parseRtp(buildRtp(options))!;
    expect(parsed).toMatchObject({ version: 2, padding: false, marker: true, payloadType: 111, sequenceNumber: 65535, timestamp: 4294967295, ssrc: 0xffffffff, csrcs: [] });
    expect(parsed.payload.toString()).toBe('opus frame');
    expect(readAudioLevel(parsed)?.level).toBe(0);
  });

  it.each([
    ['payload type 128', { payloadType: 128 }],
    ['a negative SSRC', { ssrc: -1 }],
    ['an SSRC over 32 bits', { ssrc: 2 ** 32 }],
    ['a fractional timestamp', { timestamp: 1.5 }],
    ['a NaN sequence number', { sequenceNumber: Number.NaN }],
    ['audio level 128', { audioLevel: 128 }],
    ['extension id 15', { audioLevel: 1, audioLevelExtensionId: 15 }],
    ['extension id 0', { audioLevel: 1, audioLevelExtensionId: 0 }],
  ])('throws RangeError for %s', (_, override) => {
    expect(() => buildRtp({ payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Buffer.alloc(0), ...override })).toThrow(RangeError);
  });
});

describe('readAudioLevel', () => {
  const withExtension = (profile: number, data: string) => ({ extension: { profile, data: hex(data) } });

  it('skips padding and other elements in the one-byte form', () => {
    expect(readAudioLevel(withExtension(0xbede, '00 21 aa bb 00 50 85 00'), 5)).toEqual({ level: 5, voiceActivity: true });
    expect(readAudioLevel(parseRtp(RICH)!, 1)).toEqual({ level: 33, voiceActivity: true });
  });

  it('reads the two-byte form', () => {
    expect(readAudioLevel(withExtension(0x1000, '07 02 aa bb 00 01 01 7f'), 1)).toEqual({ level: 127, voiceActivity: false });
  });

  it('returns null for stop markers, truncated elements and unknown profiles', () => {
    expect(readAudioLevel(withExtension(0xbede, 'f0 10 85 00'), 1)).toBeNull();
    expect(readAudioLevel(withExtension(0xbede, '23 aa bb'), 1)).toBeNull();
    expect(readAudioLevel(withExtension(0x1000, '01'), 1)).toBeNull();
    expect(readAudioLevel(withExtension(0x1000, '01 03 85'), 1)).toBeNull();
    expect(readAudioLevel(withExtension(0x1234, '10 85 00 00'), 1)).toBeNull();
    expect(readAudioLevel({}, 1)).toBeNull();
  });
});

describe('audioLevelDbov', () => {
  it('follows RFC 6464: 0 at full-scale square wave, 127 for silence', () => {
    expect(audioLevelDbov(Int16Array.from({ length: 160 }, (_, n) => (n % 2 ? 32767 : -32768)))).toBe(0);
    expect(audioLevelDbov(new Int16Array(160))).toBe(127);
    expect(audioLevelDbov(new Int16Array(0))).toBe(127);
  });

  it('measures sines relative to the overload point', () => {
    const sine = (amplitude: number) => Int16Array.from({ length: 960 }, (_, n) => Math.round(amplitude * Math.sin((2 * Math.PI * 1000 * n) / 48000)));
    expect(audioLevelDbov(sine(32767))).toBe(3);
    expect(audioLevelDbov(sine(3277))).toBe(23);
    expect(audioLevelDbov(new Int16Array(160).fill(1))).toBe(90);
  });
});

describe('telephone events', () => {
  it('parses an RFC 4733 payload', () => {
    expect(parseTelephoneEvent(hex('05 0a 03 20'))).toEqual({ event: 5, end: false, volume: 10, duration: 800 });
    // The reserved bit is ignored.
    expect(parseTelephoneEvent(hex('0b ca ff ff'))).toEqual({ event: 11, end: true, volume: 10, duration: 65535 });
  });

  it('returns null when the payload is too short', () => {
    expect(parseTelephoneEvent(hex('05 0a 03'))).toBeNull();
    expect(parseTelephoneEvent(Buffer.alloc(0))).toBeNull();
  });

  it('maps DTMF events to keys', () => {
    expect(Array.from({ length: 16 }, (_, event) => dtmfDigit(event)).join('')).toBe('0123456789*#ABCD');
    expect(dtmfDigit(16)).toBeNull();
    expect(dtmfDigit(-1)).toBeNull();
    expect(dtmfDigit(1.5)).toBeNull();
  });
});
