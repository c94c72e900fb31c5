import { withTimeout } from '../common/errors.js';
import type { MediaMethodName, MediaNode } from './MediaNode.js';

export type MediaParams<M extends MediaMethodName> = Parameters<MediaNode[M]>[0];
export type MediaResult<M extends MediaMethodName> = Awaited<ReturnType<MediaNode[M]>>;

/**
 * How the other tiers reach a media node. Calls are addressed to a node, carry a deadline, and
 * are safe to retry: media methods either create something new or are idempotent closes.
 */
export interface MediaClient {
  call<M extends MediaMethodName>(nodeId: string, method: M, params: MediaParams<M>): Promise<MediaResult<M>>;
  /** The node new meetings go to. */
  pickNode(meetingId: string): Promise<string>;
}

/** The embedded mode's client: the media node lives in this process. */
export class LocalMediaClient implements MediaClient {
  constructor(
    private readonly node: MediaNode,
    private readonly timeoutMs: number,
  ) {}

  async call<M extends MediaMethodName>(nodeId: string, method: M, params: MediaParams<M>): Promise<MediaResult<M>> {
    if (nodeId !== this.node.nodeId) throw new Error(`media node ${nodeId} is not this process (${this.node.nodeId})`);
    const fn = this.node[method] as (p: MediaParams<M>) => Promise<MediaResult<M>>;
    return withTimeout(fn.call(this.node, params), this.timeoutMs, `media.${method}`);
  }

  async pickNode(): Promise<string> {
    return this.node.nodeId;
  }
}
