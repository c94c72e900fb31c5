/**
 * The participants' side of loadtest/mixer-vs-janus.ts, in a child process of its own so that its
 * CPU is not counted as the mixer's. Each participant is one UDP socket on 127.0.0.1 that both
 * sends its voice to the mixer and receives its mix-minus output (Janus's plain-RTP participants
 * only accept RTP from the address they send to, so one socket does both, as a phone would).
 *
 *   speaking:  a continuous tone at its own frequency, Opus-encoded once (50 frames, 1 s, which
 *              loops seamlessly as the frequencies are whole hertz) and replayed with fresh RTP
 *              headers, one 20 ms frame per packet
 *   silent:    Opus DTX as WebRTC sends it: libopus with DTX on, encoding digital silence, and
 *              only packets over 2 bytes sent (the first 10 frames, then one every 420 ms)
 *
 * Received packets are counted per participant (count and highest extended sequence number) so
 * that the benchmark can work out the output rate and loss; a few participants also decode their
 * output, to check that it is the mix it should be (audible, and without their own voice). Started with `fork` (IPC only); exits
 * when the channel closes or after LIFETIME_MS.
 */
import dgram from 'node:dgram';
import opus from '@discordjs/opus';
import { rms, toneLevel } from '../audio/goertzel.ts';

const { OpusEncoder } = opus;

export interface BotSpec {
  ssrc: number;
  /** Tone frequency in whole hertz, or null for a silent (DTX) participant. */
  toneHz: number | null;
  room: number;
  /**
   * Decode this participant's output continuously and check it: its level, and its own tone
   * against another speaker's (mix-minus), over the last second.
   */
  listen: boolean;
}

export type BotsRequest =
  | { type: 'bind'; bots: BotSpec[] }
  /** Starts sending, from participant `first` on, to the given addresses (same order as bound). */
  | { type: 'send'; first: number; targets: Array<{ ip: string; port: number }> }
  | { type: 'snapshot' }
  | { type: 'stop' };

export type BotsReply =
  | { type: 'ready'; pid: number }
  | { type: 'bound'; ports: number[] }
  | { type: 'sending' }
  | { type: 'snapshot'; snapshot: BotsSnapshot };

export interface BotsSnapshot {
  /** Per participant, in the order bound. */
  received: number[];
  /** Highest extended sequence number received, -1 before the first packet. */
  highestSeq: number[];
  /** Packets sent, per participant. */
  sent: number[];
  /** Longest time between two received packets since the previous snapshot, per participant (ms). */
  maxGapMs: number[];
  /** This process's longest timer delay since the previous snapshot (ms): stalls of the machine, not the mixer. */
  maxStallMs: number;
  /** For each listening participant: the output's level over the last second, in dBFS. */
  levelDb: number[];
  /** For each listening participant: its own tone in its output, relative to another speaker's, in dB. */
  ownVsOtherDb: number[];
}

const FRAME = 960;
const TONE_FRAMES = 50;
const AMPLITUDE = 2000;
/** A stalled event loop sends at most this many frames at once per participant, not a flood. */
const MAX_CATCH_UP = 3;
const LIFETIME_MS = 9 * 60_000;
const LISTEN_SAMPLES = 48000; // 1 s

interface Bot {
  socket: dgram.Socket;
  ssrc: number;
  frames: Buffer[];
  /** DTX: sends the shared DTX frames, skipping those of 2 bytes or less as WebRTC does. */
  silent: boolean;
  target?: { ip: string; port: number };
  /** 0..3: sends at this quarter of the 20 ms period, to spread the bursts. */
  phase: number;
  frameIndex: number;
  seq: number;
  timestamp: number;
  sent: number;
  /** Frames due so far (sent or dropped as DTX), from the shared clock. */
  done: number;
  received: number;
  highestSeq: number;
  lastAt: number;
  maxGapMs: number;
  room: number;
  toneHz: number | null;
  /** Output analysis (listening participants only): a decoder and the last second of its output. */
  listen?: { decoder: InstanceType<typeof OpusEncoder>; pcm: Int16Array; at: number };
}

function db(ratio: number): number {
  return ratio > 0 ? Math.round(20 * Math.log10(ratio) * 10) / 10 : -200;
}

function toneFrames(hz: number): Buffer[] {
  const encoder = new OpusEncoder(48000, 1);
  const frames: Buffer[] = [];
  const pcm = new Int16Array(FRAME);
  for (let f = 0; f < TONE_FRAMES; f++) {
    for (let i = 0; i < FRAME; i++) pcm[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * hz * (f * FRAME + i)) / 48000));
    frames.push(encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)));
  }
  return frames;
}

/**
 * libopus (as bundled in @discordjs/opus) in DTX sends 10 frames of silence, then one comfort-noise
 * update every 21 frames (420 ms): frames 0-9, 30, 51, 72... From frame 51 on the pattern repeats.
 */
const DTX_LOOP_FROM = 51;
const DTX_PERIOD = 21;
/** DTX output for silence: frame i is sent when its length is over 2 bytes. Loops from DTX_LOOP_FROM. */
const DTX_FRAMES = (() => {
  const encoder = new OpusEncoder(48000, 1);
  encoder.applyEncoderCTL(4016 /* OPUS_SET_DTX */, 1);
  const silence = Buffer.alloc(FRAME * 2);
  return Array.from({ length: DTX_LOOP_FROM + DTX_PERIOD }, () => encoder.encode(silence));
})();

function dtxFrame(index: number): Buffer {
  if (index < DTX_LOOP_FROM) return DTX_FRAMES[index]!;
  return DTX_FRAMES[DTX_LOOP_FROM + ((index - DTX_LOOP_FROM) % DTX_PERIOD)]!;
}

function reply(message: BotsReply): void {
  process.send?.(message);
}

function main(): void {
  if (!process.send) {
    console.error('mixer-bench-bots: run by loadtest/mixer-vs-janus.ts (needs an IPC channel)');
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(0), LIFETIME_MS).unref();

  const bots: Bot[] = [];
  const startedAt = performance.now();

  let lastTick = performance.now();
  let maxStallMs = 0;
  const tick = () => {
    const wall = performance.now();
    maxStallMs = Math.max(maxStallMs, wall - lastTick - 5);
    lastTick = wall;
    const now = wall - startedAt;
    for (const bot of bots) {
      if (!bot.target) continue;
      const due = Math.floor((now - bot.phase * 5) / 20) + 1;
      if (due - bot.done > MAX_CATCH_UP) bot.done = due - MAX_CATCH_UP;
      while (bot.done < due) {
        bot.done++;
        const payload = bot.silent ? dtxFrame(bot.frameIndex) : bot.frames[bot.frameIndex % TONE_FRAMES]!;
        bot.frameIndex++;
        bot.timestamp = (bot.timestamp + FRAME) >>> 0;
        if (bot.silent && payload.length <= 2) continue; // DTX: nothing on the wire, sequence unchanged
        // A new buffer each time: dgram sends asynchronously.
        const packet = Buffer.allocUnsafe(12 + payload.length);
        packet[0] = 0x80;
        packet[1] = 111;
        packet.writeUInt16BE(bot.seq, 2);
        packet.writeUInt32BE(bot.timestamp, 4);
        packet.writeUInt32BE(bot.ssrc >>> 0, 8);
        payload.copy(packet, 12);
        bot.seq = (bot.seq + 1) & 0xffff;
        bot.socket.send(packet, bot.target.port, bot.target.ip);
        bot.sent++;
      }
    }
  };
  setInterval(tick, 5);

  process.on('message', async (request: BotsRequest) => {
    switch (request.type) {
      case 'bind': {
        const ports: number[] = [];
        for (const spec of request.bots) {
          const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 256 * 1024 });
          await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
          const bot: Bot = {
            socket,
            ssrc: spec.ssrc,
            frames: spec.toneHz === null ? [] : toneFrames(spec.toneHz),
            silent: spec.toneHz === null,
            phase: bots.length % 4,
            frameIndex: 0,
            seq: Math.floor(Math.random() * 0xffff),
            timestamp: Math.floor(Math.random() * 0xffffffff),
            sent: 0,
            done: 0,
            received: 0,
            highestSeq: -1,
            lastAt: 0,
            maxGapMs: 0,
            room: spec.room,
            toneHz: spec.toneHz,
            listen: spec.listen ? { decoder: new OpusEncoder(48000, 1), pcm: new Int16Array(LISTEN_SAMPLES), at: 0 } : undefined,
          };
          socket.on('error', (error) => console.error('bot socket:', error.message));
          socket.on('message', (msg) => {
            if (msg.length < 12 || msg[0]! >> 6 !== 2 || (msg[1]! >= 192 && msg[1]! <= 223)) return; // not RTP (RTCP)
            const seq = msg.readUInt16BE(2);
            const high = bot.highestSeq;
            if (high < 0) bot.highestSeq = seq + 0x10000; // room below for reordering
            else {
              let ext = (high & ~0xffff) + seq;
              if (ext < high - 0x8000) ext += 0x10000;
              else if (ext > high + 0x8000) ext -= 0x10000;
              if (ext > high) bot.highestSeq = ext;
            }
            bot.received++;
            if (bot.listen) {
              try {
                const out = bot.listen.decoder.decode(msg.subarray(12));
                for (let o = 0; o + 1 < out.length; o += 2) {
                  bot.listen.pcm[bot.listen.at] = out.readInt16LE(o);
                  bot.listen.at = (bot.listen.at + 1) % LISTEN_SAMPLES;
                }
              } catch {
                // not Opus: counted, not analysed
              }
            }
            const now = performance.now();
            if (bot.lastAt > 0 && now - bot.lastAt > bot.maxGapMs) bot.maxGapMs = now - bot.lastAt;
            bot.lastAt = now;
          });
          bots.push(bot);
          ports.push(socket.address().port);
        }
        reply({ type: 'bound', ports });
        break;
      }
      case 'send': {
        const now = performance.now() - startedAt;
        request.targets.forEach((target, i) => {
          const bot = bots[request.first + i];
          if (!bot) return;
          bot.done = Math.floor((now - bot.phase * 5) / 20);
          bot.target = target;
        });
        reply({ type: 'sending' });
        break;
      }
      case 'snapshot': {
        const levelDb: number[] = [];
        const ownVsOtherDb: number[] = [];
        for (const bot of bots) {
          if (!bot.listen) continue;
          const { pcm, at } = bot.listen;
          const ordered = new Int16Array(LISTEN_SAMPLES);
          ordered.set(pcm.subarray(at), 0);
          ordered.set(pcm.subarray(0, at), LISTEN_SAMPLES - at);
          levelDb.push(db(rms(ordered)));
          const other = bots.find((b) => b !== bot && b.room === bot.room && b.toneHz !== null);
          if (bot.toneHz !== null && other?.toneHz) {
            ownVsOtherDb.push(db(toneLevel(ordered, 48000, bot.toneHz) / toneLevel(ordered, 48000, other.toneHz)));
          }
        }
        reply({
          type: 'snapshot',
          snapshot: {
            received: bots.map((b) => b.received),
            highestSeq: bots.map((b) => b.highestSeq),
            sent: bots.map((b) => b.sent),
            maxGapMs: bots.map((b) => Math.round(b.maxGapMs)),
            maxStallMs: Math.round(maxStallMs),
            levelDb,
            ownVsOtherDb,
          },
        });
        maxStallMs = 0;
        for (const bot of bots) bot.maxGapMs = 0;
        break;
      }
      case 'stop':
        for (const bot of bots) bot.socket.close();
        process.exit(0);
    }
  });
  reply({ type: 'ready', pid: process.pid });
}

main();
