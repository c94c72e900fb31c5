import type { NodeRecord } from '../../common/NodeRegistry.ts';

export interface MediaLoad {
  workers: number;
  rooms: number;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
  /** Consumers the node accepts in all. */
  maxConsumers: number;
  /** Process CPU use over the last heartbeat, 0..1 per core summed. */
  cpu: number;
}

export type MediaNodeRecord = NodeRecord<MediaLoad>;

/** Chooses a media node for a new meeting or participant among available, non-full nodes. */
export interface PlacementStrategy {
  readonly name: string;
  pick(candidates: MediaNodeRecord[], meetingId: string): MediaNodeRecord | undefined;
}
