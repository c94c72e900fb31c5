import { randomUUID } from 'node:crypto';
import { AppError, type ErrorCode, errorCodes, withTimeout } from '../common/errors.ts';
import { INTERNAL_KEY_HEADER } from '../common/internalKey.ts';
import type { Logger } from '../common/logger.ts';
import type { NodeRegistry } from '../common/NodeRegistry.ts';
import { type LocalMediaNode, type MediaApi, MEDIA_API_VERSION, MEDIA_API_VERSION_HEADER, type MediaClient, type MediaMethodName, type MediaParams, type MediaResult } from './contract.ts';

export type { MediaClient } from './contract.ts';

/** The embedded mode's client: the media node lives in this process. */
export class LocalMediaClient implements MediaClient {
  private readonly node: LocalMediaNode;
  private readonly timeoutMs: number;
  constructor(
    node: LocalMediaNode,
    timeoutMs: number,
  ) {
    this.node = node;
    this.timeoutMs = timeoutMs;
  }

  async call<M extends MediaMethodName>(nodeId: string, method: M, params: MediaParams<M>): Promise<MediaResult<M>> {
    if (nodeId !== this.node.nodeId) throw new AppError('unavailable', `media node ${nodeId} is not reachable from this process`);
    const fn: MediaApi[M] = this.node[method];
    return withTimeout(fn.call(this.node, params), this.timeoutMs, `media.${method}`);
  }
}

/**
 * The distributed mode's client: HTTP POST to the node's internal URL from the registry. A call
 * to this process's own node stays in-process.
 */
export class HttpMediaClient implements MediaClient {
  readonly #local?: LocalMediaClient;

  private readonly registry: NodeRegistry;
  private readonly internalKey: string;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  constructor(
    registry: NodeRegistry,
    internalKey: string,
    timeoutMs: number,
    logger: Logger,
    local?: LocalMediaNode,
  ) {
    this.registry = registry;
    this.internalKey = internalKey;
    this.timeoutMs = timeoutMs;
    this.logger = logger;
    if (local) this.#local = new LocalMediaClient(local, timeoutMs);
    this.localNodeId = local?.nodeId;
  }

  readonly localNodeId?: string;
  /** Node URLs for a second: media calls come with most socket messages, URLs rarely change. */
  readonly #urls = new Map<string, { url: string; at: number }>();

  async #urlOf(nodeId: string): Promise<string> {
    const cached = this.#urls.get(nodeId);
    if (cached && Date.now() - cached.at < 1000) return cached.url;
    const node = await this.registry.get(nodeId);
    if (!node) throw new AppError('unavailable', `media node ${nodeId} is not registered`);
    this.#urls.set(nodeId, { url: node.url, at: Date.now() });
    return node.url;
  }

  async call<M extends MediaMethodName>(nodeId: string, method: M, params: MediaParams<M>): Promise<MediaResult<M>> {
    if (this.#local && nodeId === this.localNodeId) return this.#local.call(nodeId, method, params);
    const url = await this.#urlOf(nodeId);
    const requestId = randomUUID();
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const res = await fetch(`${url}/internal/media/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [INTERNAL_KEY_HEADER]: this.internalKey, [MEDIA_API_VERSION_HEADER]: String(MEDIA_API_VERSION) },
          body: JSON.stringify({ requestId, params }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const body = (await res.json().catch(() => ({}))) as { result?: MediaResult<M>; code?: string; detail?: string; details?: unknown };
        if (res.ok) return body.result as MediaResult<M>;
        if (body.code && body.code in errorCodes && res.status < 500) throw new AppError(body.code as ErrorCode, body.detail ?? method, body.details);
        if (body.code === 'node_full' || body.code === 'node_draining' || body.code === 'unavailable') {
          throw new AppError(body.code, body.detail ?? method);
        }
        lastError = new AppError('unavailable', `media node ${nodeId} answered ${res.status} to ${method}: ${body.detail ?? ''}`);
      } catch (error) {
        if (error instanceof AppError) throw error;
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
    }
    this.logger.warn({ nodeId, method, err: lastError }, 'media call failed');
    if (lastError instanceof AppError) throw lastError;
    const timedOut = lastError instanceof Error && lastError.name === 'TimeoutError';
    throw new AppError(timedOut ? 'timeout' : 'unavailable', `media node ${nodeId} did not answer ${method}`);
  }
}
