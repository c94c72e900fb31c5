import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../common/errors.ts';
import { requireInternalKey } from '../common/internalKey.ts';
import { MEDIA_METHODS, type MediaMethodName, type MediaNode } from './MediaNode.ts';

const body = z.object({ requestId: z.string().min(1).max(64), params: z.record(z.string(), z.unknown()) });

/**
 * The media node's HTTP face for other tiers. A request id seen in the last minute gets the
 * first answer again, which makes every method safe to retry.
 */
export function registerMediaRoutes(app: FastifyInstance, node: MediaNode, internalKey: string): void {
  const answered = new Map<string, { at: number; result: Promise<unknown> }>();
  const sweep = setInterval(() => {
    const cutoff = Date.now() - 60_000;
    for (const [id, entry] of answered) if (entry.at < cutoff) answered.delete(id);
  }, 10_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  app.post<{ Params: { method: string } }>('/internal/media/:method', { schema: { hide: true } }, async (request) => {
    requireInternalKey(request, internalKey);
    const method = request.params.method as MediaMethodName;
    if (!MEDIA_METHODS.includes(method)) throw new AppError('not_found', `no media method ${request.params.method}`);
    const parsed = body.safeParse(request.body);
    if (!parsed.success) throw new AppError('validation_failed', 'expected { requestId, params }');
    const { requestId, params } = parsed.data;
    let entry = answered.get(requestId);
    if (!entry) {
      const fn = node[method] as (p: unknown) => Promise<unknown>;
      entry = { at: Date.now(), result: fn.call(node, params) };
      answered.set(requestId, entry);
      entry.result.catch(() => answered.delete(requestId));
    }
    return { result: await entry.result };
  });
}
