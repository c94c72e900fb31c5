import type { MediaNodeRecord, PlacementStrategy } from './PlacementStrategy.ts';

/** Any node with room: spreads load without trusting load reports that may be stale. */
export const random: PlacementStrategy = {
  name: 'random',
  pick(candidates: MediaNodeRecord[]) {
    return candidates[Math.floor(Math.random() * candidates.length)];
  },
};
