import type { RoleContext } from '../common/role.js';
import { LocalMediaClient, type MediaClient } from './MediaClient.js';
import type { MediaNode } from './MediaNode.js';

/** Chosen once per process: the in-process node when this process runs the media role. */
export function createMediaClient(ctx: RoleContext): MediaClient {
  const node = ctx.local.get('mediaNode') as MediaNode | undefined;
  if (node) return new LocalMediaClient(node, ctx.config.REQUEST_TIMEOUT_MS);
  throw new Error('no media node is reachable from this process: run the media role here, or set REDIS_URL');
}
