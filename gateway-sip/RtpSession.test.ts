import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRtp } from '../audio/rtp.ts';
import { RtpSession } from './RtpSession.ts';

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

const pcma = (seq: number) => buildRtp({ payloadType: 8, sequenceNumber: seq, timestamp: seq * 160, ssrc: 1234, payload: Buffer.alloc(160, 0xd5) });
const settle = () => new Promise((r) => setTimeout(r, 150));

async function session(remote: { address: string; port: number }) {
  const rtp = new RtpSession({ codec: 'PCMA', payloadType: 8, telephoneEvent: 101, remote }, '127.0.0.1');
  sessions.push(rtp);
  const ports = await rtp.open();
  const media = await socket();
  const mixer = await socket();
  rtp.connectMedia({ ip: '127.0.0.1', port: media.address().port }, { port: mixer.address().port });
  return { rtp, ports, media, mixer };
}

describe('RTP sources (finding 4)', () => {
  it('takes media only from the address and port in the SDP: a stranger neither speaks nor listens', async () => {
    const phone = await socket();
    const stranger = await socket();
    const { rtp, ports, media, mixer } = await session({ address: '127.0.0.1', port: phone.address().port });
    stranger.send(pcma(1), ports.phonePort, '127.0.0.1');
    await settle();
    expect(rtp.packetsIn).toBe(0);
    expect(media.got).toHaveLength(0);
    // The meeting's audio still goes to the phone, not to the stranger.
    mixer.send(pcma(2), ports.mixPort, '127.0.0.1');
    await settle();
    expect(phone.got).toHaveLength(1);
    expect(stranger.got).toHaveLength(0);
    // The phone itself is heard.
    phone.send(pcma(3), ports.phonePort, '127.0.0.1');
    await settle();
    expect(rtp.packetsIn).toBe(1);
    expect(media.got).toHaveLength(1);
  });

  it('takes the mix-minus only from the media node\'s mixer', async () => {
    const phone = await socket();
    const stranger = await socket();
    const { ports } = await session({ address: '127.0.0.1', port: phone.address().port });
    stranger.send(pcma(1), ports.mixPort, '127.0.0.1');
    await settle();
    expect(phone.got).toHaveLength(0);
  });

  it('latches once to the first source when the SDP address is private (NAT), and never moves', async () => {
    const natted = await socket();
    const stranger = await socket();
    const { rtp, ports, mixer } = await session({ address: '10.1.2.3', port: 5004 });
    natted.send(pcma(1), ports.phonePort, '127.0.0.1');
    await settle();
    stranger.send(pcma(2), ports.phonePort, '127.0.0.1');
    await settle();
    expect(rtp.packetsIn).toBe(1);
    expect(rtp.remote).toEqual({ address: '127.0.0.1', port: natted.address().port });
    mixer.send(pcma(3), ports.mixPort, '127.0.0.1');
    await settle();
    expect(natted.got).toHaveLength(1);
    expect(stranger.got).toHaveLength(0);
  });
});
