// Captures RTP on the loopback interface with tcpdump and measures the audio in it: what a sipp
// caller receives is whatever arrives at its -mp media port.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeG711, G711_PAYLOAD_TYPE, type G711Codec } from './g711.ts';
import { DTMF_EVENTS, DTMF_PAYLOAD_TYPE, parseRtp, readPcapRtp, type RtpPacket, type UdpPacket } from './pcap.ts';

export const TCPDUMP = process.env.TCPDUMP_PATH ?? 'tcpdump';

/** Whether tcpdump exists and may capture on lo (root or CAP_NET_RAW); tests skip without it. */
export function canCapture(): boolean {
  // tcpdump says "listening on lo" once it could open the interface; it is stopped a moment later.
  const r = spawnSync(TCPDUMP, ['-i', 'lo', '-c', '1', '-w', '/dev/null', 'udp port 9'], { timeout: 1500, stdio: 'pipe' });
  return String(r.stderr ?? '').includes('listening on');
}

export interface CaptureOptions {
  /** UDP port to capture (either direction): typically the caller's -mp media port. */
  port?: number;
  /** Full BPF filter instead of `udp port <port>`. */
  filter?: string;
  iface?: string;
  /** tcpdump stops after this long whatever happens, even if this process dies (default 120 s). */
  maxMs?: number;
  /** How long to wait for tcpdump to start listening (default 10 s). */
  startTimeoutMs?: number;
}

export interface Capture {
  file: string;
  /** Ends tcpdump (it flushes what it has) and returns the UDP datagrams it captured. */
  stop(): Promise<UdpPacket[]>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGINT');
});

/** Starts `tcpdump -i lo -U -w <tmpfile> udp port <port>`; resolves once it is listening. */
export async function startCapture(options: CaptureOptions): Promise<Capture> {
  const filter = options.filter ?? (options.port !== undefined ? `udp port ${options.port}` : undefined);
  if (!filter) throw new Error('startCapture needs a port or a filter');
  const dir = mkdtempSync(join(tmpdir(), 'sip-capture-'));
  const file = join(dir, 'capture.pcap');
  // -Z root: tcpdump run as root otherwise drops to the tcpdump user, who may not write in dir.
  // -s 0: whole packets. --immediate-mode: libpcap hands over each packet at once (not when a
  // ring-buffer block fills or times out), -U: tcpdump writes it at once; so stop() loses nothing.
  const args = ['-i', options.iface ?? 'lo', '-n', '-s', '0', '-U', '--immediate-mode', '-Z', 'root', '-w', file, filter];
  // timeout(1) bounds tcpdump even when this process dies without cleaning up (a killed test
  // worker); it hands the SIGINT of stop() on to tcpdump.
  const maxS = Math.max(1, Math.ceil((options.maxMs ?? 120_000) / 1000));
  const child = spawn('timeout', ['-s', 'INT', '-k', '3', String(maxS), TCPDUMP, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once('error', (err) => {
      live.delete(child);
      stderr += String(err);
      resolve(-1);
    });
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`tcpdump did not start listening: ${stderr}`));
    }, options.startTimeoutMs ?? 10_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}) before listening: ${stderr}`));
    });
  });

  let result: Promise<UdpPacket[]> | undefined;
  return {
    file,
    stop: () => {
      result ??= (async () => {
        // The kernel hands a packet to the capture socket a moment after the send returns.
        await new Promise((r) => setTimeout(r, 200));
        child.kill('SIGINT');
        const hardKill = setTimeout(() => child.kill('SIGTERM'), 3000);
        await exited;
        clearTimeout(hardKill);
        try {
          return readPcapRtp(file);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      return result;
    },
  };
}

export interface RtpFilter {
  /** Only datagrams sent to this port (what a caller whose -mp is this port receives). */
  dstPort?: number;
  srcPort?: number;
  payloadType?: number;
  ssrc?: number;
}

/** The RTP packets among captured datagrams, with their capture time, in capture order. */
export function rtpPackets(packets: UdpPacket[], filter: RtpFilter = {}): (RtpPacket & { time: number })[] {
  const out: (RtpPacket & { time: number })[] = [];
  for (const p of packets) {
    if (filter.dstPort !== undefined && p.dstPort !== filter.dstPort) continue;
    if (filter.srcPort !== undefined && p.srcPort !== filter.srcPort) continue;
    const rtp = parseRtp(p.payload);
    // RTCP multiplexed on the port has payload types 72-76 once the marker bit is folded in.
    if (!rtp || (rtp.payloadType >= 72 && rtp.payloadType <= 76)) continue;
    if (filter.payloadType !== undefined && rtp.payloadType !== filter.payloadType) continue;
    if (filter.ssrc !== undefined && rtp.ssrc !== filter.ssrc) continue;
    out.push({ ...rtp, time: p.time });
  }
  return out;
}

/**
 * Decodes the G.711 audio in captured datagrams to 8 kHz 16-bit PCM. Only packets of the codec's
 * static payload type count (filter by dstPort to keep one direction). Each SSRC's packets are put in
 * sequence order (duplicates dropped) and SSRCs follow each other in order of first appearance; lost
 * packets are not concealed.
 */
export function analyseG711(packets: UdpPacket[], codec: G711Codec, filter: Omit<RtpFilter, 'payloadType'> = {}): Int16Array {
  const rtp = rtpPackets(packets, { ...filter, payloadType: G711_PAYLOAD_TYPE[codec] });
  const bySsrc = new Map<number, typeof rtp>();
  for (const p of rtp) {
    const list = bySsrc.get(p.ssrc) ?? [];
    list.push(p);
    bySsrc.set(p.ssrc, list);
  }
  const chunks: Int16Array[] = [];
  for (const list of bySsrc.values()) {
    // Extend 16-bit sequence numbers across wraps relative to the first packet.
    const first = list[0]!.sequenceNumber;
    const keyed = list.map((p) => ({ p, key: ((p.sequenceNumber - first + 0x18000) % 0x10000) - 0x8000 }));
    keyed.sort((a, b) => a.key - b.key);
    let last: number | undefined;
    for (const { p, key } of keyed) {
      if (key === last) continue;
      last = key;
      chunks.push(decodeG711(p.payload, codec));
    }
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const pcm = new Int16Array(total);
  let offset = 0;
  for (const c of chunks) {
    pcm.set(c, offset);
    offset += c.length;
  }
  return pcm;
}

/** Root mean square of 16-bit samples (0 for silence, about 0.707 x peak for a sine). */
export function rms(pcm: ArrayLike<number>): number {
  if (pcm.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  return Math.sqrt(sum / pcm.length);
}

/**
 * Goertzel estimate of the peak amplitude (16-bit units) of `frequency` in `pcm`, Hann-windowed:
 * a sine of peak 8000 at that frequency gives about 8000, other frequencies (more than a few
 * sampleRate/length bins away) and silence give about 0.
 */
export function toneLevel(pcm: ArrayLike<number>, sampleRate: number, frequency: number): number {
  const n = pcm.length;
  if (n === 0) return 0;
  const omega = (2 * Math.PI * frequency) / sampleRate;
  const coeff = 2 * Math.cos(omega);
  let s1 = 0;
  let s2 = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const w = n > 1 ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)) : 1;
    windowSum += w;
    const s0 = pcm[i]! * w + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / windowSum;
}

/** The share (0-1) of the signal's RMS that `frequency` accounts for: near 0.707/0.707 = 1 for a pure tone. */
export function toneRatio(pcm: ArrayLike<number>, sampleRate: number, frequency: number): number {
  const r = rms(pcm);
  return r === 0 ? 0 : toneLevel(pcm, sampleRate, frequency) / Math.SQRT2 / r;
}

/**
 * The digits in RFC 4733 telephone-event packets among captured datagrams: one per event, an event
 * being identified by (SSRC, RTP timestamp) so updates and repeated end packets count once.
 */
export function dtmfDigits(packets: UdpPacket[], filter: Omit<RtpFilter, 'payloadType'> & { payloadType?: number } = {}): string {
  const rtp = rtpPackets(packets, { ...filter, payloadType: filter.payloadType ?? DTMF_PAYLOAD_TYPE });
  const seen = new Set<string>();
  let digits = '';
  for (const p of rtp) {
    if (p.payload.length < 4) continue;
    const key = `${p.ssrc}:${p.timestamp}`;
    if (seen.has(key)) continue;
    seen.add(key);
    digits += DTMF_EVENTS[p.payload[0]!] ?? '?';
  }
  return digits;
}
