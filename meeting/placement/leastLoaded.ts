import type { MediaNodeRecord, PlacementStrategy } from './PlacementStrategy.ts';

/** The node with the most free consumer capacity per worker, CPU breaking ties. */
export const leastLoaded: PlacementStrategy = {
  name: 'least-loaded',
  pick(candidates: MediaNodeRecord[]) {
    const score = (n: MediaNodeRecord) => n.load.consumers / Math.max(1, n.load.maxConsumers) + n.load.cpu / Math.max(1, n.load.workers) / 10;
    return [...candidates].sort((a, b) => score(a) - score(b) || a.load.rooms - b.load.rooms || a.id.localeCompare(b.id))[0];
  },
};
