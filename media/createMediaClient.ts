import { internalKeyFrom } from '../common/internalKey.ts';
import { NodeRegistry } from '../common/NodeRegistry.ts';
import type { RoleContext } from '../common/role.ts';
import { type LocalMediaNode, MEDIA_NODE_KIND, type MediaClient } from './contract.ts';
import { HttpMediaClient, LocalMediaClient } from './MediaClient.ts';

/**
 * Chosen once per process, after this process's media node (if any) exists: the node is an
 * argument, so no client can be made before it. Embedded: the one media node is in this
 * process and must be given. With Redis: HTTP to whichever node the registry names,
 * in-process for this process's own node.
 */
export function createMediaClient(ctx: Pick<RoleContext, 'config' | 'backends' | 'logger'>, local: LocalMediaNode | undefined): MediaClient {
  if (ctx.config.embedded) {
    if (!local) throw new Error('the embedded mode needs the media role in this process');
    return new LocalMediaClient(local, ctx.config.REQUEST_TIMEOUT_MS);
  }
  return new HttpMediaClient(
    new NodeRegistry(ctx.backends.store, MEDIA_NODE_KIND),
    internalKeyFrom(ctx.config.jwtSecret),
    ctx.config.REQUEST_TIMEOUT_MS,
    ctx.logger.child({ tier: 'media-client' }),
    local,
  );
}
