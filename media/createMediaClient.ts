import { NodeRegistry } from '../common/NodeRegistry.ts';
import type { RoleContext } from '../common/role.ts';
import { internalKeyFrom } from '../common/internalKey.ts';
import { HttpMediaClient, LocalMediaClient, type MediaClient } from './MediaClient.ts';
import type { MediaNode } from './MediaNode.ts';

/**
 * Chosen once per process. Embedded: the one media node is in this process. With Redis: HTTP to
 * whichever node the registry names, in-process for this process's own node.
 */
export function createMediaClient(ctx: RoleContext): MediaClient {
  const node = ctx.local.get('mediaNode') as MediaNode | undefined;
  if (ctx.config.embedded) {
    if (!node) throw new Error('the embedded mode needs the media role in this process');
    return new LocalMediaClient(node, ctx.config.REQUEST_TIMEOUT_MS);
  }
  return new HttpMediaClient(
    new NodeRegistry(ctx.backends.store, 'media'),
    internalKeyFrom(ctx.config.jwtSecret),
    ctx.config.REQUEST_TIMEOUT_MS,
    ctx.logger.child({ tier: 'media-client' }),
    node,
  );
}
