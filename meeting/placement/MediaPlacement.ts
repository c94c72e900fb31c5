import { AppError } from '../../common/errors.ts';
import type { NodeRegistry } from '../../common/NodeRegistry.ts';
import { leastLoaded } from './leastLoaded.ts';
import type { MediaLoad, PlacementStrategy } from './PlacementStrategy.ts';
import { random } from './random.ts';

export const STRATEGIES: Record<string, PlacementStrategy> = { 'least-loaded': leastLoaded, random };

/** Which media nodes may take new work, and which one should. */
export class MediaPlacement {
  readonly registry: NodeRegistry<MediaLoad>;
  private readonly strategy: PlacementStrategy;
  constructor(
    registry: NodeRegistry<MediaLoad>,
    strategy: PlacementStrategy,
  ) {
    this.registry = registry;
    this.strategy = strategy;
  }

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
