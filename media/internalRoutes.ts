import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../common/errors.ts';
import { requireInternalKey } from '../common/internalKey.ts';
import { ACCEPTED_MEDIA_API_VERSIONS, isMediaMethod, MEDIA_API_VERSION_HEADER, type MediaApi, type MediaMethodName, type MediaParams, mediaParams } from './contract.ts';

const body = z.object({ requestId: z.string().min(1).max(64), params: z.unknown() });

/**
 * The media node's HTTP face for other tiers. Parameters are checked against the method's
 * schema before the node sees them (`validation_failed` otherwise), and the caller's API
 * version against the ones this node speaks. A request id seen in the last minute gets the
 * first answer again, which makes every method safe to retry.
 */
export function registerMediaRoutes(app: FastifyInstance, node: MediaApi, internalKey: string): void {
  const answered = new Map<string, { at: number; result: Promise<unknown> }>();
  const sweep = setInterval(() => {
    const cutoff = Date.now() - 60_000;
    for (const [id, entry] of answered) if (entry.at < cutoff) answered.delete(id);
  }, 10_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  app.post<{ Params: { method: string } }>('/internal/media/:method', { schema: { hide: true } }, async (request) => {
    requireInternalKey(request, internalKey);
    requireKnownVersion(request);
    const method = request.params.method;
    if (!isMediaMethod(method)) throw new AppError('not_found', `no media method ${method}`);
    const parsed = body.safeParse(request.body);
    if (!parsed.success) throw new AppError('validation_failed', 'expected { requestId, params }');
    const { requestId } = parsed.data;
    const params = parseParams(method, parsed.data.params);
    let entry = answered.get(requestId);
    if (!entry) {
      entry = { at: Date.now(), result: invoke(node, method, params) };
      answered.set(requestId, entry);
      entry.result.catch(() => answered.delete(requestId));
    }
    return { result: await entry.result };
  });
}

function parseParams<M extends MediaMethodName>(method: M, raw: unknown): MediaParams<M> {
  const parsed = mediaParams[method].safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new AppError('validation_failed', `invalid parameters for media method ${method}`, issues);
  }
  return parsed.data as MediaParams<M>;
}

function invoke<M extends MediaMethodName>(node: MediaApi, method: M, params: MediaParams<M>): Promise<unknown> {
  const fn: MediaApi[M] = node[method];
  return fn.call(node, params);
}

/** No header is version 1, from before versions were sent. */
function requireKnownVersion(request: FastifyRequest): void {
  const header = request.headers[MEDIA_API_VERSION_HEADER];
  const version = header === undefined ? 1 : Number(header);
  if (!ACCEPTED_MEDIA_API_VERSIONS.includes(version)) {
    throw new AppError('bad_request', `media API version ${String(header)} is not supported; this node speaks versions ${ACCEPTED_MEDIA_API_VERSIONS.join(' and ')}`, {
      accepted: ACCEPTED_MEDIA_API_VERSIONS,
    });
  }
}
