import type { MediaNode } from './MediaNode.ts';
import type { WorkerPool } from './WorkerPool.ts';

/** A media node serves new participants only with a live worker and while not draining. */
export function mediaReadiness(pool: Pick<WorkerPool, 'size'>, node: Pick<MediaNode, 'draining'>): string | null {
  if (pool.size === 0) return 'media: no live mediasoup worker';
  if (node.draining) return 'media: draining';
  return null;
}
