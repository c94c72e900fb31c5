/**
 * The audio mixer, off the main event loop. Every 20 ms, for each meeting mix with at least
 * one output: pull a frame from each input's jitter buffer (decode, or conceal a lost packet),
 * sum them, and for each output subtract its own participant (mix-minus), then encode and send
 * RTP. A mix with no output does no work, and a silent one sends nothing.
 */
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import opus from '@discordjs/opus';

const { OpusEncoder } = opus;
type OpusEncoder = InstanceType<typeof OpusEncoder>;
import { encodeALaw, encodeMuLaw } from '../../audio/g711.ts';
import { JitterBuffer } from '../../audio/JitterBuffer.ts';
import { Downsampler48to8 } from '../../audio/resample.ts';
import { buildRtp, parseRtp } from '../../audio/rtp.ts';
import type { MixerCommand, MixerEvent, OutputCodec } from './protocol.ts';

const FRAME = 960; // 20 ms at 48 kHz
const SILENCE_RMS = 30;

interface Input {
  ssrc: number;
  participantId: string;
  jitter: JitterBuffer;
  decoder: OpusEncoder;
  /** This tick's decoded frame, or null when the input had nothing (silent). */
  frame: Int16Array | null;
  /** The last real frame, for concealing a lost one. */
  last: Int16Array | null;
  /** Lost frames in a row, concealed by fading the last one out. */
  lostRun: number;
}

/** An output as added, plus the state of its RTP stream and encoder. */
interface Output extends Omit<Extract<MixerCommand, { type: 'addOutput' }>, 'type' | 'mixId'> {
  seq: number;
  timestamp: number;
  /** Nothing was sent last tick: the next packet starts a talkspurt (marker bit). */
  resuming: boolean;
  downsampler: Downsampler48to8;
  encoder?: OpusEncoder;
}

interface Mix {
  inputs: Map<number, Input>;
  outputs: Map<string, Output>;
  /** Output of a listener who is silent this tick: everyone, encoded once per codec and shared. */
  shared: Map<OutputCodec, { downsampler: Downsampler48to8; encoder?: OpusEncoder }>;
}

const { listenIp = '127.0.0.1', port: preferredPort = 0 } = (workerData ?? {}) as { listenIp?: string; port?: number };
const mixes = new Map<string, Mix>();
const inputsBySsrc = new Map<number, Input>();
const socket = dgram.createSocket('udp4');
const stats = { ticks: 0, encodes: 0, lateTicks: 0, droppedTicks: 0 };

const post = (event: MixerEvent) => parentPort?.postMessage(event);

socket.on('message', (packet) => {
  const rtp = parseRtp(packet);
  if (!rtp) return;
  const input = inputsBySsrc.get(rtp.ssrc);
  if (!input) return;
  input.jitter.push({ sequenceNumber: rtp.sequenceNumber, timestamp: rtp.timestamp, payload: rtp.payload });
});

socket.bind(preferredPort, listenIp, () => post({ type: 'ready', port: socket.address().port }));

function mixFor(mixId: string): Mix {
  let mix = mixes.get(mixId);
  if (!mix) {
    mix = { inputs: new Map(), outputs: new Map(), shared: new Map() };
    mixes.set(mixId, mix);
  }
  return mix;
}

parentPort?.on('message', (command: MixerCommand) => {
  switch (command.type) {
    case 'addInput': {
      const input: Input = {
        ssrc: command.ssrc,
        participantId: command.participantId,
        jitter: new JitterBuffer(),
        decoder: new OpusEncoder(48000, 1),
        frame: null,
        last: null,
        lostRun: 0,
      };
      mixFor(command.mixId).inputs.set(command.ssrc, input);
      inputsBySsrc.set(command.ssrc, input);
      break;
    }
    case 'removeInput':
      mixes.get(command.mixId)?.inputs.delete(command.ssrc);
      inputsBySsrc.delete(command.ssrc);
      break;
    case 'addOutput':
      mixFor(command.mixId).outputs.set(command.outputId, {
        ...command,
        seq: Math.floor(Math.random() * 65535),
        resuming: true,
        timestamp: Math.floor(Math.random() * 0xffffffff),
        downsampler: new Downsampler48to8(),
        encoder: command.codec === 'opus' ? new OpusEncoder(48000, 1) : undefined,
      });
      break;
    case 'removeOutput':
      mixes.get(command.mixId)?.outputs.delete(command.outputId);
      break;
    case 'removeMix': {
      const mix = mixes.get(command.mixId);
      for (const ssrc of mix?.inputs.keys() ?? []) inputsBySsrc.delete(ssrc);
      mixes.delete(command.mixId);
      break;
    }
    case 'stop':
      stop();
      break;
    case 'stats': {
      let inputs = 0;
      let outputs = 0;
      let activeMixes = 0;
      for (const mix of mixes.values()) {
        inputs += mix.inputs.size;
        outputs += mix.outputs.size;
        if (mix.outputs.size > 0) activeMixes++;
      }
      post({ type: 'stats', mixes: mixes.size, activeMixes, inputs, outputs, ...stats });
      break;
    }
  }
});

/**
 * Packet-loss concealment: a lost frame is the last good one, each repeat at half the level.
 * (The binding's libopus concealment, asked for with an empty packet, always makes 120 ms,
 * four times the work of a frame, and puts the decoder 100 ms ahead of the stream.)
 */
function conceal(input: Input): Int16Array | null {
  input.lostRun++;
  if (!input.last || input.lostRun > 3) return null;
  const gain = 0.5 ** input.lostRun;
  return input.last.map((v) => v * gain);
}

function decodeTick(input: Input): void {
  const next = input.jitter.pop();
  input.frame = null;
  if (next === null) return;
  if ('lost' in next) {
    input.frame = conceal(input);
    return;
  }
  try {
    const pcm = input.decoder.decode(next.payload);
    input.frame = new Int16Array(pcm.buffer, pcm.byteOffset, Math.min(FRAME, pcm.length / 2));
    input.last = input.frame;
    input.lostRun = 0;
  } catch {
    input.frame = conceal(input);
  }
}

function encode(codec: OutputCodec, pcm48: Int16Array, state: { downsampler: Downsampler48to8; encoder?: OpusEncoder }): Buffer {
  stats.encodes++;
  if (codec === 'opus') return state.encoder!.encode(Buffer.from(pcm48.buffer, pcm48.byteOffset, pcm48.byteLength));
  const pcm8 = state.downsampler.process(pcm48);
  return Buffer.from(codec === 'PCMU' ? encodeMuLaw(pcm8) : encodeALaw(pcm8));
}

function send(output: Output, payload: Buffer): void {
  const packet = buildRtp({
    payloadType: output.payloadType,
    sequenceNumber: output.seq,
    timestamp: output.timestamp >>> 0,
    ssrc: output.ssrc,
    marker: output.resuming,
    payload,
  });
  output.seq = (output.seq + 1) & 0xffff;
  output.resuming = false;
  socket.send(packet, output.dest.port, output.dest.ip);
}

/**
 * The media clock runs whether or not a packet goes out (silence, dropped ticks), as RTP
 * requires; what was not sent marks the next packet as the start of a talkspurt.
 */
function advanceClocks(ticks: number, sent: ReadonlySet<Output> = new Set()): void {
  for (const mix of mixes.values()) {
    for (const output of mix.outputs.values()) {
      output.timestamp = (output.timestamp + ticks * (output.codec === 'opus' ? FRAME : 160)) >>> 0;
      if (!sent.has(output)) output.resuming = true;
    }
  }
}

function tick(): void {
  stats.ticks++;
  const sent = new Set<Output>();
  const total = new Int32Array(FRAME);
  const minus = new Int16Array(FRAME);
  for (const mix of mixes.values()) {
    if (mix.outputs.size === 0) {
      // Suspended: keep the buffers from growing, do no DSP.
      for (const input of mix.inputs.values()) input.jitter.pop();
      continue;
    }
    total.fill(0);
    let voices = 0;
    const speaking = new Map<string, Int16Array>();
    for (const input of mix.inputs.values()) {
      decodeTick(input);
      if (!input.frame) continue;
      let energy = 0;
      for (let i = 0; i < input.frame.length; i++) {
        total[i]! += input.frame[i]!;
        energy += input.frame[i]! * input.frame[i]!;
      }
      if (Math.sqrt(energy / input.frame.length) > SILENCE_RMS) {
        voices++;
        speaking.set(input.participantId, input.frame);
      }
    }
    if (voices === 0) continue; // silent meeting: send nothing
    const sharedPayloads = new Map<OutputCodec, Buffer>();
    for (const output of mix.outputs.values()) {
      if (!speaking.has(output.excludeParticipantId)) {
        // This listener adds nothing to the mix, so it hears the same as every other silent listener.
        let payload = sharedPayloads.get(output.codec);
        if (!payload) {
          let state = mix.shared.get(output.codec);
          if (!state) {
            state = { downsampler: new Downsampler48to8(), encoder: output.codec === 'opus' ? new OpusEncoder(48000, 1) : undefined };
            mix.shared.set(output.codec, state);
          }
          for (let i = 0; i < FRAME; i++) minus[i] = clamp(total[i]!);
          payload = encode(output.codec, minus, state);
          sharedPayloads.set(output.codec, payload);
        }
        send(output, payload);
        sent.add(output);
        continue;
      }
      const own = speaking.get(output.excludeParticipantId)!;
      for (let i = 0; i < FRAME; i++) minus[i] = clamp(total[i]! - (own[i] ?? 0));
      send(output, encode(output.codec, minus, output));
      sent.add(output);
    }
  }
  advanceClocks(1, sent);
}

function clamp(v: number): number {
  return Math.min(32767, Math.max(-32768, v));
}

// A self-correcting clock: setInterval drifts under load, and a mixer must keep real time.
const start = performance.now();
let done = 0;
const clock = setInterval(() => {
  const due = Math.floor((performance.now() - start) / 20);
  const owed = due - done;
  if (owed > 1) stats.lateTicks++;
  // After a stall, catch up at most 100 ms; older frames are dropped rather than sent late.
  const run = Math.min(owed, 5);
  for (let n = 0; n < run; n++) tick();
  if (owed > run) {
    stats.droppedTicks += owed - run;
    advanceClocks(owed - run);
  }
  done = due;
}, 5);

/** Stops cleanly between ticks, so no codec call is cut off (terminating mid-call aborts Node). */
function stop(): void {
  clearInterval(clock);
  socket.close();
  parentPort?.close();
}
