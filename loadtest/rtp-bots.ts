/**
 * The RTP side of loadtest/consumer-capacity.ts, in a child process of its own so that the
 * benchmark's control loop (HTTP setup, sampling) and the packet work do not starve each other.
 *
 *   sender:   sends Opus-sized RTP (fixed payload, 20 ms frames) for the streams it is given
 *   receiver: binds sockets on 127.0.0.1 and counts RTP per SSRC (received, highest sequence
 *             number, one-way delay of a sample of packets); the benchmark starts one per
 *             media process, so that receiving is not capped at one core
 *
 * Started with `fork` by the benchmark (`node loadtest/rtp-bots.ts sender|receiver`);
 * it talks over the IPC channel only and exits when that channel closes or its time is up.
 */
import dgram from 'node:dgram';
import { pathToFileURL } from 'node:url';

export interface SendStream {
  ip: string;
  port: number;
  ssrc: number;
  payloadType: number;
}

export type SenderRequest = { type: 'start'; streams: SendStream[]; packetMs: number; payloadBytes: number } | { type: 'counts' } | { type: 'stop' };
export type ReceiverRequest = { type: 'listen'; sockets: number; recvBufferBytes: number } | { type: 'snapshot' } | { type: 'stop' };

export type BotsReply =
  | { type: 'ready' }
  /** `ports`: the sender's sockets, one per stream (the media node's RTCP comes back to them). */
  | { type: 'started'; ports: number[] }
  | { type: 'listening'; ports: number[]; recvBufferBytes: number }
  /** Packets sent so far, per stream in the order given to `start`. */
  | { type: 'counts'; sent: number[] }
  | { type: 'snapshot'; snapshot: ReceiverSnapshot };

export interface ReceiverSnapshot {
  ssrcs: number[];
  /** RTP packets received, per SSRC (same order as `ssrcs`). */
  received: number[];
  /** Highest extended sequence number seen, per SSRC. */
  highestSeq: number[];
  /** One-way delay of sampled packets since the previous snapshot, in buckets of DELAY_BUCKET_US. */
  delayHistogram: number[];
  /** Datagrams that were not RTP (RTCP from the media node, mostly). */
  other: number;
}

export const DELAY_BUCKET_US = 250;
const DELAY_BUCKETS = 4000; // up to 1 s; later packets land in the last bucket
/** Every packet whose sequence number is a multiple of this carries a measured delay. */
const DELAY_SAMPLE_MASK = 7;
/** A stalled event loop sends at most this many frames at once per stream, not a flood. */
const MAX_CATCH_UP = 3;
/** No benchmark step needs a child longer than this; it then exits on its own. */
const LIFETIME_MS = 8 * 60_000;

/** The sender's clock, written into each payload: process.hrtime is CLOCK_MONOTONIC, shared by processes. */
function writeClock(buf: Buffer, offset: number): void {
  const [s, ns] = process.hrtime();
  buf.writeUInt32BE(s >>> 0, offset);
  buf.writeUInt32BE(ns, offset + 4);
}

function send(message: BotsReply): void {
  process.send?.(message);
}

function runSender(): void {
  // One connected socket per stream: no address lookup per send, and with comedia each
  // producer's transport locks onto its own socket.
  let streams: Array<SendStream & { socket: dgram.Socket; seq: number; timestamp: number; sent: number; payloadBytes: number }> = [];
  let timer: NodeJS.Timeout | undefined;
  let startedAt = 0;
  let packetMs = 20;

  const tick = () => {
    const due = Math.floor((performance.now() - startedAt) / packetMs) + 1;
    for (const stream of streams) {
      if (due - stream.sent > MAX_CATCH_UP) stream.sent = due - MAX_CATCH_UP; // frames skipped, not sequence numbers: no gap
      while (stream.sent < due) {
        // A new buffer each time: dgram sends asynchronously, so a reused one could go out twice.
        const packet = Buffer.alloc(12 + stream.payloadBytes);
        stream.seq = (stream.seq + 1) & 0xffff;
        stream.timestamp = (stream.timestamp + (48_000 * packetMs) / 1000) >>> 0;
        packet[0] = 0x80; // V=2, no padding, no extension, no CSRC
        packet[1] = stream.payloadType & 0x7f;
        packet.writeUInt16BE(stream.seq, 2);
        packet.writeUInt32BE(stream.timestamp, 4);
        packet.writeUInt32BE(stream.ssrc >>> 0, 8);
        packet[12] = 0x78; // an Opus TOC byte; the clock follows it
        writeClock(packet, 13);
        stream.socket.send(packet);
        stream.sent++;
      }
    }
  };

  process.on('message', async (request: SenderRequest) => {
    if (request.type === 'start') {
      packetMs = request.packetMs;
      streams = await Promise.all(
        request.streams.map(async (s) => {
          const socket = dgram.createSocket('udp4');
          // ECONNREFUSED: the media process is gone (the benchmark is stopping); nothing to report.
          socket.on('error', (error: NodeJS.ErrnoException) => {
            if (error.code !== 'ECONNREFUSED') console.error('rtp sender:', error.message);
          });
          // RTCP receiver reports from the media node arrive here; they are not needed.
          socket.on('message', () => undefined);
          await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
          await new Promise<void>((resolve) => socket.connect(s.port, s.ip, resolve));
          return { ...s, socket, seq: Math.floor(Math.random() * 0xffff), timestamp: Math.floor(Math.random() * 0xffffffff), sent: 0, payloadBytes: request.payloadBytes };
        }),
      );
      startedAt = performance.now();
      if (timer) clearInterval(timer);
      timer = setInterval(tick, Math.max(1, Math.floor(packetMs / 4)));
      send({ type: 'started', ports: streams.map((s) => s.socket.address().port) });
    } else if (request.type === 'counts') {
      send({ type: 'counts', sent: streams.map((s) => s.sent) });
    } else {
      if (timer) clearInterval(timer);
      for (const stream of streams) stream.socket.close();
      process.exit(0);
    }
  });
  send({ type: 'ready' });
}

function runReceiver(): void {
  const sockets: dgram.Socket[] = [];
  const index = new Map<number, number>();
  const ssrcs: number[] = [];
  const received: number[] = [];
  const highestSeq: number[] = [];
  let delayHistogram = new Array<number>(DELAY_BUCKETS).fill(0);
  let other = 0;

  const onMessage = (msg: Buffer) => {
    // RTP version 2 with a payload type outside RTCP's 192..223 (RFC 5761 demultiplexing).
    if (msg.length < 12 || msg[0]! >> 6 !== 2 || (msg[1]! >= 192 && msg[1]! <= 223)) {
      other++;
      return;
    }
    const ssrc = msg.readUInt32BE(8);
    const seq = msg.readUInt16BE(2);
    let i = index.get(ssrc);
    if (i === undefined) {
      i = ssrcs.length;
      index.set(ssrc, i);
      ssrcs.push(ssrc);
      received.push(0);
      highestSeq.push(seq);
    } else {
      // Extend the 16-bit number: the nearest value to the highest so far with these low bits.
      const high = highestSeq[i]!;
      let ext = (high & ~0xffff) + seq;
      if (ext < high - 0x8000) ext += 0x10000;
      else if (ext > high + 0x8000) ext -= 0x10000;
      if (ext > high) highestSeq[i] = ext;
    }
    received[i]!++;
    if ((seq & DELAY_SAMPLE_MASK) === 0) {
      // The media node adds header extensions (mid, abs-send-time, ...): find the payload.
      let offset = 12 + 4 * (msg[0]! & 0x0f);
      if (msg[0]! & 0x10 && msg.length >= offset + 4) offset += 4 + 4 * msg.readUInt16BE(offset + 2);
      if (msg.length < offset + 9) return;
      const [s, ns] = process.hrtime();
      const us = (s - msg.readUInt32BE(offset + 1)) * 1e6 + (ns - msg.readUInt32BE(offset + 5)) / 1000;
      delayHistogram[Math.min(DELAY_BUCKETS - 1, Math.max(0, Math.floor(us / DELAY_BUCKET_US)))]!++;
    }
  };

  process.on('message', async (request: ReceiverRequest) => {
    if (request.type === 'listen') {
      const ports: number[] = [];
      let granted = 0;
      for (let n = 0; n < request.sockets; n++) {
        const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: request.recvBufferBytes });
        socket.on('message', onMessage);
        socket.on('error', (error) => console.error('rtp receiver:', error.message));
        await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
        sockets.push(socket);
        ports.push(socket.address().port);
        // Linux reports double the requested size (it counts its bookkeeping); capped by net.core.rmem_max.
        granted = socket.getRecvBufferSize();
      }
      send({ type: 'listening', ports, recvBufferBytes: granted });
    } else if (request.type === 'snapshot') {
      send({ type: 'snapshot', snapshot: { ssrcs: [...ssrcs], received: [...received], highestSeq: [...highestSeq], delayHistogram, other } });
      delayHistogram = new Array<number>(DELAY_BUCKETS).fill(0);
    } else {
      for (const socket of sockets) socket.close();
      process.exit(0);
    }
  });
  send({ type: 'ready' });
}

/** Runs only as the child's entry point; the benchmark imports this file for its types and constants. */
function main(): void {
  const role = process.argv[2];
  if (!process.send) {
    console.error('rtp-bots: run by loadtest/consumer-capacity.ts (needs an IPC channel)');
    process.exit(2);
  }
  // The benchmark going away, cleanly or not, closes the channel: nothing is left behind.
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => {
    console.error(`rtp-bots ${role}: still running after ${LIFETIME_MS / 1000} s, exiting`);
    process.exit(3);
  }, LIFETIME_MS).unref();
  if (role === 'sender') runSender();
  else if (role === 'receiver') runReceiver();
  else {
    console.error(`rtp-bots: unknown role ${role}`);
    process.exit(2);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
