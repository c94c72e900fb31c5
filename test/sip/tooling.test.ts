// Tests of the SIP end-to-end tooling itself (pcap writing/reading, G.711, capture, sipp scenarios),
// run against a fake UAS so that they need no gateway.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { analyseG711, canCapture, dtmfDigits, rms, rtpPackets, startCapture, toneLevel } from './capture.ts';
import { type FakeUas, startFakeUas } from './fakeUas.ts';
import { alawToLinear, decodeG711, encodeG711, linearToAlaw, linearToUlaw, ulawToLinear } from './g711.ts';
import {
  buildRtpStream,
  encodePcap,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  parsePcapUdp,
  parseRtp,
  readPcapRtp,
  udpFrame,
  writeDtmfPcap,
  writeRtpPcap,
  writeTonePcap,
} from './pcap.ts';
import { parseSipMessage } from './sipMessage.ts';
import { buildInvite, flood, freeMediaPort, runSipp, type SippResult, sendRawSip, sippAvailable, tracedMessages } from './sipp.ts';

const dir = mkdtempSync(join(tmpdir(), 'sip-tooling-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SR = 8000;

function sine(frequency: number, samples: number, amplitude = 8000): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / SR));
  return out;
}

describe('G.711', () => {
  it('encodes and decodes A-law and µ-law within the quantisation error', () => {
    for (const [enc, dec] of [
      [linearToAlaw, alawToLinear],
      [linearToUlaw, ulawToLinear],
    ] as const) {
      for (let v = -32768; v <= 32767; v += 97) {
        const back = dec(enc(v));
        expect(Math.abs(back - v)).toBeLessThanOrEqual(Math.max(16, Math.abs(v) / 16));
      }
      expect(dec(enc(0))).toBeLessThanOrEqual(8);
    }
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToUlaw(0)).toBe(0xff);
  });

  it('keeps a tone measurable through a round trip', () => {
    const pcm = decodeG711(encodeG711(sine(1000, 8000), 'PCMU'), 'PCMU');
    expect(toneLevel(pcm, SR, 1000)).toBeGreaterThan(7500);
    expect(toneLevel(pcm, SR, 400)).toBeLessThan(100);
    expect(rms(pcm)).toBeGreaterThan(5500);
  });
});

describe('pcap', () => {
  it('writes a tone pcap that reads back as 20 ms RTP packets of that tone', () => {
    for (const codec of ['PCMA', 'PCMU'] as const) {
      const file = join(dir, `tone-${codec}.pcap`);
      const result = writeTonePcap(file, { frequency: 1000, durationMs: 2000, codec, amplitude: 10_000, startSeq: 65530 });
      expect(result.packets).toBe(100);
      const udp = readPcapRtp(file);
      expect(udp).toHaveLength(100);
      const rtp = rtpPackets(udp);
      expect(rtp[0]!.payloadType).toBe(codec === 'PCMA' ? 8 : 0);
      expect(rtp[0]!.marker).toBe(true);
      expect(rtp[1]!.marker).toBe(false);
      for (let i = 1; i < rtp.length; i++) {
        expect(rtp[i]!.sequenceNumber).toBe((rtp[i - 1]!.sequenceNumber + 1) & 0xffff);
        expect((rtp[i]!.timestamp - rtp[i - 1]!.timestamp) >>> 0).toBe(160);
        expect(rtp[i]!.payload).toHaveLength(160);
        expect(Math.round((rtp[i]!.time - rtp[i - 1]!.time) * 1000)).toBe(20);
        expect(rtp[i]!.ssrc).toBe(rtp[0]!.ssrc);
      }
      const pcm = analyseG711(udp, codec);
      expect(pcm).toHaveLength(16_000);
      expect(toneLevel(pcm, SR, 1000)).toBeGreaterThan(9000);
      expect(toneLevel(pcm, SR, 1000)).toBeLessThan(11_000);
      expect(toneLevel(pcm, SR, 400)).toBeLessThan(200);
      // The other codec's payload type is not there.
      expect(analyseG711(udp, codec === 'PCMA' ? 'PCMU' : 'PCMA')).toHaveLength(0);
    }
  });

  it('writes Ethernet frames that sipp and tcpdump accept', () => {
    const file = join(dir, 'frame.pcap');
    writeTonePcap(file, { frequency: 400, durationMs: 40, codec: 'PCMA' });
    const udp = readPcapRtp(file);
    expect(udp[0]).toMatchObject({ srcAddr: '127.0.0.1', dstAddr: '127.0.0.1', srcPort: 6000, dstPort: 6000 });
    expect(udp[0]!.payload).toHaveLength(172);
  });

  it('writes RFC 4733 DTMF as one stream with a new timestamp per digit', () => {
    const file = join(dir, 'dtmf.pcap');
    const digits = '123456789#';
    const result = writeDtmfPcap(file, digits, { codec: 'PCMU' });
    const udp = readPcapRtp(file);
    expect(dtmfDigits(udp)).toBe(digits);
    const rtp = rtpPackets(udp);
    expect(rtp).toHaveLength(result.packets);
    for (let i = 1; i < rtp.length; i++) expect(rtp[i]!.sequenceNumber).toBe((rtp[i - 1]!.sequenceNumber + 1) & 0xffff);
    const events = rtp.filter((p) => p.payloadType === 101);
    expect(new Set(events.map((p) => p.timestamp)).size).toBe(digits.length);
    const first = events.filter((p) => p.timestamp === events[0]!.timestamp);
    // 100 ms in 20 ms updates, the last with the E bit, sent three times; marker on the first.
    expect(first.map((p) => p.payload.readUInt16BE(2))).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(first.map((p) => (p.payload[1]! & 0x80) !== 0)).toEqual([false, false, false, false, true, true, true]);
    expect(first.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    // Silence in between keeps RTP flowing.
    const silence = analyseG711(udp, 'PCMU');
    expect(silence.length).toBeGreaterThan(0);
    expect(rms(silence)).toBe(0);
    // ',' pauses.
    const paused = writeDtmfPcap(join(dir, 'paused.pcap'), '1,2', { pauseMs: 1000 });
    expect(paused.durationMs).toBeGreaterThan(result.durationMs / digits.length + 1000);
  });

  it('continues a stream across files', () => {
    const a = writeDtmfPcap(join(dir, 'a.pcap'), '5#');
    writeTonePcap(join(dir, 'b.pcap'), { frequency: 400, durationMs: 100, codec: 'PCMA', continueFrom: a.state });
    const last = rtpPackets(readPcapRtp(join(dir, 'a.pcap'))).at(-1)!;
    const next = rtpPackets(readPcapRtp(join(dir, 'b.pcap')))[0]!;
    expect(next.ssrc).toBe(last.ssrc);
    expect(next.sequenceNumber).toBe((last.sequenceNumber + 1) & 0xffff);
    expect((next.timestamp - last.timestamp) >>> 0).toBe(160);
  });

  it('reads the link types tcpdump writes (NULL, RAW, Linux SLL and SLL2)', () => {
    const { packets } = buildRtpStream([{ type: 'tone', frequency: 1000, durationMs: 60 }]);
    const ipPackets = packets.map((p, i) => ({ timeUs: p.timeUs, data: udpFrame(p.rtp, 4000, 5000, i).subarray(14) }));
    const withHeader = (prefix: (len: number) => Buffer) => ipPackets.map((p) => ({ timeUs: p.timeUs, data: Buffer.concat([prefix(p.data.length), p.data]) }));
    const nullHeader = () => Buffer.from([2, 0, 0, 0]);
    const sll = () => {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0x0800, 14);
      return h;
    };
    const sll2 = () => {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(0x0800, 0);
      return h;
    };
    for (const [linkType, frames] of [
      [LINKTYPE_RAW, ipPackets],
      [LINKTYPE_NULL, withHeader(nullHeader)],
      [LINKTYPE_LINUX_SLL, withHeader(sll)],
      [LINKTYPE_LINUX_SLL2, withHeader(sll2)],
    ] as const) {
      const udp = parsePcapUdp(encodePcap([...frames], linkType));
      expect(udp).toHaveLength(3);
      expect(udp[0]).toMatchObject({ srcPort: 4000, dstPort: 5000 });
      expect(parseRtp(udp[0]!.payload)?.payloadType).toBe(8);
    }
  });

  it.skipIf(!existsSync('/usr/share/sip-tester/g711a.pcap'))("reads sipp's shipped g711a.pcap", () => {
    const udp = readPcapRtp('/usr/share/sip-tester/g711a.pcap');
    expect(udp).toHaveLength(236);
    expect(rms(analyseG711(udp, 'PCMA'))).toBeGreaterThan(100);
  });
});

const captureOk = canCapture();

describe.skipIf(!captureOk)('capture (tcpdump)', () => {
  it('captures UDP datagrams sent to a loopback port', async () => {
    const port = await freeMediaPort();
    const capture = await startCapture({ port });
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const { packets } = buildRtpStream([{ type: 'tone', frequency: 1000, durationMs: 100 }], { codec: 'PCMU' });
    for (const p of packets) await new Promise<void>((r) => socket.send(p.rtp, port, '127.0.0.1', () => r()));
    // Traffic on another port is left out.
    await new Promise<void>((r) => socket.send(Buffer.from('other'), port + 1, '127.0.0.1', () => r()));
    socket.close();
    const captured = await capture.stop();
    expect(captured).toHaveLength(5);
    expect(captured.every((p) => p.dstPort === port && p.srcAddr === '127.0.0.1')).toBe(true);
    expect(captured[0]!.payload.equals(packets[0]!.rtp)).toBe(true);
    expect(analyseG711(captured, 'PCMU', { dstPort: port })).toHaveLength(800);
  });
});

// play_pcap_audio sends through a raw socket: sipp needs root (or CAP_NET_RAW).
const sippOk = sippAvailable() && process.getuid?.() === 0;

function explain(r: SippResult): string {
  return `${r.command}\nexit ${r.code}\n${r.stderr}\n${r.errors}\n${r.messages}`;
}

describe.skipIf(!sippOk)('sipp scenarios against a fake UAS', () => {
  let uas: FakeUas;
  beforeAll(async () => {
    uas = await startFakeUas();
  });
  afterAll(async () => {
    await uas?.close();
  });
  afterEach(() => {
    uas.calls.clear();
    uas.received.length = 0;
    uas.rtp.length = 0;
  });
  const target = () => `127.0.0.1:${uas.port}`;
  const inviteOf = (service: string) => uas.waitFor((r) => r.message.method === 'INVITE' && (r.message.uri ?? '').startsWith(`sip:${service}@`));

  it('uac-pin: joins with the PIN, plays the pcap from -mp, hangs up (UDP and TCP)', async () => {
    const tone = join(dir, 'pin-tone.pcap');
    writeTonePcap(tone, { frequency: 400, durationMs: 1000, codec: 'PCMA' });
    for (const transport of ['u1', 't1'] as const) {
      uas.rtp.length = 0;
      uas.received.length = 0;
      const mediaPort = await freeMediaPort();
      const r = await runSipp({ scenario: 'uac-pin', target: target(), transport, service: '123456789', mediaPort, keys: { audio_ms: '1200' }, pcaps: { 'audio.pcap': tone }, timeoutMs: 15_000 });
      expect(r.code, explain(r)).toBe(0);
      const invite = (await inviteOf('123456789')).message;
      expect(invite.body).toContain(`m=audio ${mediaPort} RTP/AVP 8 0 101`);
      const call = uas.calls.get(invite.headers.get('call-id')![0]!)!;
      expect(call.transport).toBe(transport === 'u1' ? 'udp' : 'tcp');
      expect(call.acked).toBe(true);
      expect(call.ended).toBe(true);
      // RTP leaves from the -mp port.
      expect(uas.rtp.length).toBe(50);
      expect(uas.rtp.every((p) => p.srcPort === mediaPort)).toBe(true);
      const pcm = analyseG711(uas.rtp, 'PCMA');
      expect(toneLevel(pcm, SR, 400)).toBeGreaterThan(7000);
      const sent = tracedMessages(r.messages).filter((m) => m.direction === 'sent').map((m) => m.text.split(' ')[0]);
      expect(sent).toEqual(['INVITE', 'ACK', 'BYE']);
    }
  });

  it('uac-ivr-dtmf: keys the PIN as RFC 4733 DTMF, then plays audio', async () => {
    const pin = join(dir, 'ivr-pin.pcap');
    const audio = join(dir, 'ivr-audio.pcap');
    const p = writeDtmfPcap(pin, '987654321#', { codec: 'PCMA' });
    writeTonePcap(audio, { frequency: 1000, durationMs: 600, codec: 'PCMA', continueFrom: p.state });
    const r = await runSipp({
      scenario: 'uac-ivr-dtmf',
      target: target(),
      service: 'conference',
      mediaPort: await freeMediaPort(),
      keys: { pin_ms: String(Math.ceil(p.durationMs) + 100), audio_ms: '800' },
      pcaps: { 'pin.pcap': pin, 'audio.pcap': audio },
      timeoutMs: 15_000,
    });
    expect(r.code, explain(r)).toBe(0);
    await inviteOf('conference');
    expect(dtmfDigits(uas.rtp)).toBe('987654321#');
    // The last 600 ms are the tone; the DTMF pcap filled the time before with silence.
    const pcm = analyseG711(uas.rtp, 'PCMA');
    expect(toneLevel(pcm.subarray(-4800), SR, 1000)).toBeGreaterThan(7000);
    expect(rms(pcm.subarray(0, 1600))).toBeLessThan(20); // A-law silence decodes to ±8
    expect(new Set(rtpPackets(uas.rtp).map((x) => x.ssrc)).size).toBe(1);
  });

  it('uac-ivr-info: keys the PIN as SIP INFO dtmf-relay', async () => {
    const audio = join(dir, 'info-audio.pcap');
    writeRtpPcap(audio, [{ type: 'silence', durationMs: 300 }, { type: 'tone', frequency: 1000, durationMs: 3000 }], { codec: 'PCMU' });
    const r = await runSipp({
      scenario: 'uac-ivr-info',
      target: target(),
      service: 'conference',
      mediaPort: await freeMediaPort(),
      keys: { codec_pts: '0 8', digits: '123456789#', info_gap_ms: '50', audio_ms: '700' },
      pcaps: { 'audio.pcap': audio },
      timeoutMs: 15_000,
    });
    expect(r.code, explain(r)).toBe(0);
    const invite = (await inviteOf('conference')).message;
    expect(invite.body).toContain('RTP/AVP 0 8 101');
    const call = uas.calls.get(invite.headers.get('call-id')![0]!)!;
    expect(call.infoDigits).toBe('123456789#');
    const info = uas.received.find((x) => x.message.method === 'INFO')!.message;
    expect(info.headers.get('content-type')).toEqual(['application/dtmf-relay']);
    expect(info.body).toMatch(/^Signal=1\r\nDuration=160/);
    // CSeq grows through the dialog: INVITE 1, INFOs 2..11, BYE 12.
    const bye = uas.received.find((x) => x.message.method === 'BYE')!.message;
    expect(bye.headers.get('cseq')).toEqual(['12 BYE']);
    expect(toneLevel(analyseG711(uas.rtp, 'PCMU'), SR, 1000)).toBeGreaterThan(1000);
  });

  for (const scenario of ['uac-wrong-pin', 'uac-wait-bye', 'uac-remote-bye'] as const) {
    it(`${scenario}: answers the far end's BYE with 200, fails when none comes`, async () => {
      const pin = join(dir, 'wrong.pcap');
      writeDtmfPcap(pin, '111111111#,222222222#,333333333#', { toneMs: 60, gapMs: 40, pauseMs: 300 });
      const audio = join(dir, 'long.pcap');
      writeTonePcap(audio, { frequency: 400, durationMs: 5000, codec: 'PCMA' });
      const pcaps = { 'pin.pcap': pin, 'audio.pcap': audio };
      const service = scenario === 'uac-wrong-pin' ? 'conference' : '123456789';
      const run = runSipp({ scenario, target: target(), service, mediaPort: await freeMediaPort(), pcaps, recvTimeoutMs: 10_000, timeoutMs: 15_000 });
      const invite = (await inviteOf(service)).message;
      const callId = invite.headers.get('call-id')![0]!;
      await uas.waitFor((x) => x.message.method === 'ACK');
      const waitUntil = Date.now() + 8000;
      while (scenario === 'uac-wrong-pin' && dtmfDigits(uas.rtp).length < 30 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      uas.bye(callId);
      const r = await run;
      expect(r.code, explain(r)).toBe(0);
      const ok = await uas.waitFor((x) => x.message.status === 200 && /BYE/.test(x.message.headers.get('cseq')?.[0] ?? ''));
      expect(ok.message.headers.get('call-id')).toEqual([callId]);
      if (scenario === 'uac-wrong-pin') expect(dtmfDigits(uas.rtp)).toBe('111111111#222222222#333333333#');
      if (scenario === 'uac-wait-bye') expect(uas.rtp).toHaveLength(0);

      // No BYE: the receive timeout fails the call (and sipp then hangs up itself).
      const silent = await runSipp({ scenario, target: target(), service, mediaPort: await freeMediaPort(), pcaps, recvTimeoutMs: 1000, timeoutMs: 15_000 });
      expect(silent.code).toBe(1);
    });
  }

  it.skipIf(!captureOk)('measures what the caller receives: the far end tone, not its own', async () => {
    const mediaPort = await freeMediaPort();
    const own = join(dir, 'own.pcap');
    writeTonePcap(own, { frequency: 400, durationMs: 2500, codec: 'PCMA' });
    const capture = await startCapture({ port: mediaPort });
    const run = runSipp({ scenario: 'uac-pin', target: target(), service: '123456789', mediaPort, keys: { audio_ms: '2500' }, pcaps: { 'audio.pcap': own }, timeoutMs: 15_000 });
    const invite = (await inviteOf('123456789')).message;
    await uas.waitFor((x) => x.message.method === 'ACK');
    await uas.sendTone(invite.headers.get('call-id')![0]!, { frequency: 1000, durationMs: 1500, codec: 'PCMA' });
    const r = await run;
    const packets = await capture.stop();
    expect(r.code, explain(r)).toBe(0);
    const heard = analyseG711(packets, 'PCMA', { dstPort: mediaPort });
    expect(heard.length).toBe(12_000);
    expect(rms(heard)).toBeGreaterThan(1000);
    expect(toneLevel(heard, SR, 1000)).toBeGreaterThan(5000);
    expect(toneLevel(heard, SR, 400)).toBeLessThan(100);
    const said = analyseG711(packets, 'PCMA', { srcPort: mediaPort });
    expect(toneLevel(said, SR, 400)).toBeGreaterThan(5000);
  });
});

describe('raw SIP and flood against a fake UAS', () => {
  let uas: FakeUas;
  beforeAll(async () => {
    uas = await startFakeUas({ inviteStatus: (m) => (m.uri?.startsWith('sip:busy@') ? 486 : 200) });
  });
  afterAll(async () => {
    await uas?.close();
  });

  it('sendRawSip returns the first (or first final) response over UDP and TCP, null on silence', async () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const message = buildInvite({ port: uas.port, transport: transport === 'udp' ? 'UDP' : 'TCP' });
      const first = await sendRawSip({ transport, port: uas.port, message });
      expect(parseSipMessage(first!)?.status).toBe(100);
      const final = await sendRawSip({ transport, port: uas.port, message: buildInvite({ port: uas.port, user: 'busy' }), skipProvisional: true });
      expect(parseSipMessage(final!)?.status).toBe(486);
    }
    expect(await sendRawSip({ transport: 'udp', port: uas.port, message: 'garbage\r\n\r\n', timeoutMs: 300 })).toBeNull();
  });

  it('flood sends INVITEs fast and counts the final responses', async () => {
    const ok = await flood({ count: 200, port: uas.port, settleMs: 3000 });
    expect(ok.sent).toBe(200);
    expect(ok.finals).toEqual({ 200: 200 });
    expect(ok.unanswered).toBe(0);
    const busy = await flood({ count: 50, port: uas.port, user: 'busy', settleMs: 3000 });
    expect(busy.finals).toEqual({ 486: 50 });
    expect(busy.provisionals).toEqual({ 100: 50 });
    // The 2xx calls were ACKed and hung up.
    await new Promise((r) => setTimeout(r, 300));
    const floodCalls = [...uas.calls.values()].filter((c) => c.callId.startsWith('flood-') && !c.requestUri.startsWith('sip:busy@'));
    expect(floodCalls).toHaveLength(200);
    expect(floodCalls.every((c) => c.acked && c.ended)).toBe(true);
  });
});
