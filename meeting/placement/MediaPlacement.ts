import { AppError } from '../../common/errors.js';
import type { NodeRegistry } from '../../common/NodeRegistry.js';
import { leastLoaded } from './leastLoaded.js';
import type { MediaLoad, PlacementStrategy } from './PlacementStrategy.js';
import { random } from './random.js';

export const STRATEGIES: Record<string, PlacementStrategy> = { 'least-loaded': leastLoaded, random };

/** Which media nodes may take new work, and which one should. */
export class MediaPlacement {
  constructor(
    readonly registry: NodeRegistry<MediaLoad>,
    private readonly strategy: PlacementStrategy,
  ) {}

  async pick(meetingId: string, exclude: ReadonlySet<string> = new Set()): Promise<string> {
    const candidates = (await this.registry.available()).filter((n) => !exclude.has(n.id) && n.load.consumers < n.load.maxConsumers);
    const choice = this.strategy.pick(candidates, meetingId);
    if (!choice) throw new AppError('unavailable', 'no media node can take this meeting now');
    return choice.id;
  }

  async isAlive(nodeId: string): Promise<boolean> {
    return this.registry.isAlive(nodeId);
  }
}
