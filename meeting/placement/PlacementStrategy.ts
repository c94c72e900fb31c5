import type { MediaNodeRecord } from '../../media/contract.ts';

export type { MediaLoad, MediaNodeRecord } from '../../media/contract.ts';

/** Chooses a media node for a new meeting or participant among available, non-full nodes. */
export interface PlacementStrategy {
  readonly name: string;
  pick(candidates: MediaNodeRecord[], meetingId: string): MediaNodeRecord | undefined;
}
