/** Messages between the media node's main thread and the mixer thread. */

export type OutputCodec = 'PCMU' | 'PCMA' | 'opus';

export type MixerCommand =
  | { type: 'addInput'; mixId: string; ssrc: number; participantId: string }
  | { type: 'removeInput'; mixId: string; ssrc: number }
  | {
      type: 'addOutput';
      mixId: string;
      outputId: string;
      /** Mix-minus: this participant's own voice is left out of the output. */
      excludeParticipantId: string;
      codec: OutputCodec;
      payloadType: number;
      ssrc: number;
      dest: { ip: string; port: number };
    }
  | { type: 'removeOutput'; mixId: string; outputId: string }
  | { type: 'removeMix'; mixId: string }
  | { type: 'stats' }
  /** Ends the thread between ticks. */
  | { type: 'stop' };

export type MixerEvent =
  | { type: 'ready'; port: number }
  | { type: 'stats'; mixes: number; activeMixes: number; inputs: number; outputs: number; ticks: number; encodes: number; lateTicks: number; droppedTicks: number };
