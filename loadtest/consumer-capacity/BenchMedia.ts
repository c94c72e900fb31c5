import pino from 'pino';
import { NodeRegistry } from '../../common/NodeRegistry.ts';
import { MemoryStateStore } from '../../common/state/MemoryStateStore.ts';
import type { MediaClient, MediaMethodName, MediaParams, MediaResult } from '../../media/contract.ts';
import { HttpMediaClient } from '../../media/MediaClient.ts';

/** The media client's own timeout is generous here: setup runs many calls at once on a busy machine. */
const CALL_TIMEOUT_MS = 15_000;

/**
 * One media process's internal API, through the typed client the meeting tier uses
 * (`HttpMediaClient`: request ids, retries, typed errors), timed for the setup line of each step.
 */
export class BenchMedia {
  /** Calls made and their total and longest duration, for the setup line of each step. */
  static calls = { count: 0, totalMs: 0, maxMs: 0 };

  readonly nodeId: string;
  readonly #client: MediaClient;
  private constructor(nodeId: string, client: MediaClient) {
    this.nodeId = nodeId;
    this.#client = client;
  }

  /**
   * The bench knows where its media processes listen, so a registry of its own (in memory)
   * names them to the client, whatever URL they announce in Redis.
   */
  static async connect(nodeId: string, url: string, internalKey: string): Promise<BenchMedia> {
    const registry = new NodeRegistry(new MemoryStateStore(), 'media');
    await registry.write({ id: nodeId, url, state: 'serving', load: {} });
    return new BenchMedia(nodeId, new HttpMediaClient(registry, internalKey, CALL_TIMEOUT_MS, pino({ level: 'warn' })));
  }

  async call<M extends MediaMethodName>(method: M, params: MediaParams<M>): Promise<MediaResult<M>> {
    const started = performance.now();
    try {
      return await this.#client.call(this.nodeId, method, params);
    } finally {
      const ms = performance.now() - started;
      BenchMedia.calls.count++;
      BenchMedia.calls.totalMs += ms;
      BenchMedia.calls.maxMs = Math.max(BenchMedia.calls.maxMs, ms);
    }
  }
}
