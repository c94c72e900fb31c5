import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import opus from '@discordjs/opus';
import { buildRtp, parseRtp } from '../audio/rtp.ts';
import { waitFor } from '../common/testing.ts';
import { RtpSession } from './RtpSession.ts';
import type { Negotiated } from './sdp.ts';

const { OpusEncoder } = opus;

const sockets: dgram.Socket[] = [];
const sessions: RtpSession[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
  for (const s of sessions.splice(0)) s.close();
});

async function socket(): Promise<dgram.Socket & { got: Buffer[] }> {
  const s = dgram.createSocket('udp4') as dgram.Socket & { got: Buffer[] };
  s.got = [];
  s.on('message', (m) => s.got.push(m));
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  sockets.push(s);
  return s;
}

const pcma = (seq: number, samples = 160) =>
  buildRtp({ payloadType: 8, sequenceNumber: seq, timestamp: seq * samples, ssrc: 1234, payload: Buffer.alloc(samples, 0xd5) });
const arrived = (check: () => boolean, what: string) => waitFor(check, { intervalMs: 10, what });

async function session(remote: { address: string; port: number }, negotiated: Partial<Negotiated> = {}) {
  const rtp = new RtpSession({ codec: 'PCMA', payloadType: 8, telephoneEvent: 101, remote, ...negotiated }, '127.0.0.1');
  sessions.push(rtp);
  const ports = await rtp.open();
  const media = await socket();
  const mixer = await socket();
  rtp.connectMedia({ ip: '127.0.0.1', port: media.address().port }, { port: mixer.address().port });
  return { rtp, ports, media, mixer };
}

// Absence is shown with a marker: a packet sent after the one that must be ignored, through the
// same socket, arrives after it; once the marker is through, the ignored one would have been.
describe('RTP sources (finding 4)', () => {
  it('takes media only from the address and port in the SDP: a stranger neither speaks nor listens', async () => {
    const phone = await socket();
    const stranger = await socket();
    const { rtp, ports, media, mixer } = await session({ address: '127.0.0.1', port: phone.address().port });
    stranger.send(pcma(1), ports.phonePort, '127.0.0.1');
    // The meeting's audio goes to the phone, not to the stranger.
    mixer.send(pcma(2), ports.mixPort, '127.0.0.1');
    // The phone itself is heard.
    phone.send(pcma(3), ports.phonePort, '127.0.0.1');
    await arrived(() => media.got.length === 1 && phone.got.length === 1, "the phone's packet and the mix");
    expect(rtp.packetsIn).toBe(1);
    expect(stranger.got).toHaveLength(0);
  });

  it("takes the mix-minus only from the media node's mixer", async () => {
    const phone = await socket();
    const stranger = await socket();
    const { ports, mixer } = await session({ address: '127.0.0.1', port: phone.address().port });
    stranger.send(pcma(1), ports.mixPort, '127.0.0.1');
    mixer.send(pcma(2), ports.mixPort, '127.0.0.1');
    await arrived(() => phone.got.length > 0, "the mixer's packet");
    expect(phone.got).toEqual([pcma(2)]);
  });

  it('latches once to the first source when the SDP address is private (NAT), and never moves', async () => {
    const natted = await socket();
    const stranger = await socket();
    const { rtp, ports, mixer } = await session({ address: '10.1.2.3', port: 5004 });
    natted.send(pcma(1), ports.phonePort, '127.0.0.1');
    await arrived(() => rtp.packetsIn === 1, 'the first packet');
    stranger.send(pcma(2), ports.phonePort, '127.0.0.1');
    natted.send(pcma(3), ports.phonePort, '127.0.0.1');
    await arrived(() => rtp.packetsIn === 2, "the latched source's next packet");
    expect(rtp.remote).toEqual({ address: '127.0.0.1', port: natted.address().port });
    mixer.send(pcma(4), ports.mixPort, '127.0.0.1');
    await arrived(() => natted.got.length === 1, 'the mix at the latched source');
    expect(stranger.got).toHaveLength(0);
  });
});

describe('packet time', () => {
  const decoder = new OpusEncoder(48000, 1);
  const sent = (media: { got: Buffer[] }) => media.got.map((packet) => parseRtp(packet)!);

  for (const ms of [10, 20, 30, 40]) {
    it(`turns ${ms} ms G.711 packets into 20 ms Opus frames, stamped 20 ms apart`, async () => {
      const phone = await socket();
      const { ports, media } = await session({ address: '127.0.0.1', port: phone.address().port });
      for (let seq = 0; seq < 6; seq++) phone.send(pcma(seq, ms * 8), ports.phonePort, '127.0.0.1');
      const frames = (6 * ms) / 20;
      await arrived(() => media.got.length === Math.floor(frames), `${Math.floor(frames)} frames`);
      const packets = sent(media);
      for (const [i, packet] of packets.entries()) {
        expect((packet.timestamp - packets[0]!.timestamp) >>> 0).toBe(i * 960);
        expect(decoder.decode(Buffer.from(packet.payload))).toHaveLength(960 * 2);
      }
    });
  }

  it('passes Opus through in the framing the phone chose, its timestamps kept apart as sent', async () => {
    const phone = await socket();
    const { ports, media } = await session({ address: '127.0.0.1', port: phone.address().port }, { codec: 'opus', payloadType: 111 });
    const frame = decoder.encode(Buffer.alloc(1920 * 2));
    for (let seq = 0; seq < 3; seq++) {
      phone.send(buildRtp({ payloadType: 111, sequenceNumber: seq, timestamp: 5000 + seq * 1920, ssrc: 99, payload: frame }), ports.phonePort, '127.0.0.1');
    }
    await arrived(() => media.got.length === 3, 'three 40 ms packets');
    const packets = sent(media);
    expect(packets.map((p) => (p.timestamp - packets[0]!.timestamp) >>> 0)).toEqual([0, 1920, 3840]);
  });
});
