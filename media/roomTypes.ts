import type { types } from 'mediasoup';
import type { MediaSource } from '../protocol/src/index.ts';
import type { RouterSlot } from './RouterSlot.ts';

/** What this node keeps on its mediasoup objects. */
export interface MediaAppData extends types.AppData {
  meetingId: string;
  participantId: string;
  source?: MediaSource;
  /** WebRTC transports go one way; a plain RTP transport (bots, gateways, mixer) both ways. */
  direction?: 'send' | 'recv' | 'plain';
  /** On a producer or consumer: the transport it was made on. */
  transportId?: string;
}

/** A producer the room can route: published here, or imported from another node. */
export interface RoomProducer {
  producer: types.Producer<MediaAppData>;
  slot: RouterSlot;
  participantId: string;
  source: MediaSource;
  importedFrom?: string;
}

/** A PipeTransport to another node: `import` pulls its producers here, `export` pushes ours. */
export interface NodePipe {
  pipeId: string;
  peerNodeId: string;
  direction: 'import' | 'export';
  transport: types.PipeTransport;
}

/** What one participant may hold on a node at once. */
export interface ParticipantLimits {
  transports: number;
  producers: number;
  consumers: number;
}

/**
 * What a room asks of its audio mix (mixer/MeetingMix.ts): the room drives the mix but does not
 * build it, so the mix may know the room without the two importing each other.
 */
export interface RoomMix {
  readonly outputs: number;
  addProducer(entry: RoomProducer): Promise<void>;
  removeOutput(participantId: string): boolean;
  close(): void;
}
