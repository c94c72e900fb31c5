/**
 * Convene's mixer for loadtest/mixer-vs-janus.ts, alone in a child process so that the CPU the
 * benchmark measures (this process: its main thread, the mixer thread and Node's helpers) is the
 * mixer's only. It drives media/mixer/AudioMixer exactly as MeetingMix does, without mediasoup:
 * inputs are identified by SSRC on the mixer's one UDP port, outputs go to each participant.
 * Started with `fork` (IPC only); exits when the channel closes or after LIFETIME_MS.
 */
import { createLogger } from '../common/logger.ts';
import { AudioMixer } from '../media/mixer/AudioMixer.ts';
import type { MixerCommand, MixerEvent } from '../media/mixer/protocol.ts';

export type ConveneRequest = { type: 'start' } | { type: 'commands'; commands: MixerCommand[] } | { type: 'stats' } | { type: 'stop' };

export type ConveneReply =
  | { type: 'started'; port: number; pid: number }
  | { type: 'done' }
  | { type: 'stats'; stats: Extract<MixerEvent, { type: 'stats' }> | null };

const LIFETIME_MS = 9 * 60_000;

function reply(message: ConveneReply): void {
  process.send?.(message);
}

function main(): void {
  if (!process.send) {
    console.error('mixer-bench-convene: run by loadtest/mixer-vs-janus.ts (needs an IPC channel)');
    process.exit(2);
  }
  const mixer = new AudioMixer('127.0.0.1', createLogger({ level: 'warn', role: 'mixer-bench', nodeId: 'bench' }));
  const exit = () => {
    void mixer.close().finally(() => process.exit(0));
  };
  process.on('disconnect', exit);
  setTimeout(exit, LIFETIME_MS).unref();

  process.on('message', async (request: ConveneRequest) => {
    switch (request.type) {
      case 'start':
        reply({ type: 'started', port: await mixer.port(), pid: process.pid });
        break;
      case 'commands':
        for (const command of request.commands) await mixer.send(command);
        reply({ type: 'done' });
        break;
      case 'stats':
        reply({ type: 'stats', stats: await mixer.stats() });
        break;
      case 'stop':
        exit();
        break;
    }
  });
}

main();
