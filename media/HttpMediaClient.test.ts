import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.ts';
import { createHttpServer } from '../common/http.ts';
import { NodeRegistry } from '../common/NodeRegistry.ts';
import { MemoryStateStore } from '../common/state/MemoryStateStore.ts';
import { registerMediaRoutes } from './internalRoutes.ts';
import { HttpMediaClient } from './MediaClient.ts';
import type { MediaNode } from './MediaNode.ts';

const KEY = 'internal-key-for-this-test';
const silent = pino({ level: 'silent' });
const PARAMS = { meetingId: 'm', participantId: 'p', rtpCapabilities: {} };

/**
 * The client and the node's routes over real HTTP: a call whose answer is lost is sent again
 * with the same request id, and the node runs it once. Only the node's method is a stand-in.
 */
describe('HttpMediaClient against registerMediaRoutes', () => {
  let app: ReturnType<typeof createHttpServer>;
  let store: MemoryStateStore;
  let client: HttpMediaClient;
  let runs: number;
  let refuse: AppError | undefined;
  /** How many answers, after the node ran, are replaced by a 502 as if lost on the way. */
  let loseAnswers: number;
  const requestIds: string[] = [];

  beforeEach(async () => {
    runs = 0;
    refuse = undefined;
    loseAnswers = 0;
    requestIds.length = 0;
    const node = {
      nodeId: 'media-x',
      async registerParticipant() {
        runs++;
        if (refuse) throw refuse;
        return { activeSpeakerId: `run-${runs}` };
      },
    } as unknown as MediaNode;
    app = createHttpServer(silent);
    app.addHook('preHandler', async (request) => {
      requestIds.push((request.body as { requestId: string }).requestId);
    });
    app.addHook('onSend', async (_request, reply, payload) => {
      if (reply.statusCode !== 200 || loseAnswers === 0) return payload;
      loseAnswers--;
      reply.code(502);
      return '{}';
    });
    registerMediaRoutes(app, node, KEY);
    await app.listen({ port: 0, host: '127.0.0.1' });
    store = new MemoryStateStore();
    const registry = new NodeRegistry(store, 'media');
    await registry.write({ id: 'media-x', url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, state: 'serving', load: {} });
    client = new HttpMediaClient(registry, KEY, 5000, silent);
  });

  afterEach(async () => {
    await app.close();
    await store.close();
  });

  it('sends a call again when its answer is lost, with the same request id, and the node runs it once', async () => {
    loseAnswers = 2;
    const result = await client.call('media-x', 'registerParticipant', PARAMS);
    expect(result).toEqual({ activeSpeakerId: 'run-1' });
    expect(runs).toBe(1);
    expect(requestIds).toHaveLength(3);
    expect(new Set(requestIds).size).toBe(1);
  });

  it('answers a request id once, even when it arrives twice at the same time; a new call gets a new id', async () => {
    const post = (requestId: string) =>
      fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/internal/media/registerParticipant`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-internal-key': KEY },
        body: JSON.stringify({ requestId, params: PARAMS }),
      }).then((res) => res.json());
    const [first, second] = await Promise.all([post('same'), post('same')]);
    expect(first).toEqual(second);
    expect(runs).toBe(1);
    await client.call('media-x', 'registerParticipant', PARAMS);
    expect(runs).toBe(2);
  });

  it('gives up after three lost answers with unavailable', async () => {
    loseAnswers = 3;
    await expect(client.call('media-x', 'registerParticipant', PARAMS)).rejects.toMatchObject({ code: 'unavailable' });
    expect(requestIds).toHaveLength(3);
    expect(runs).toBe(1);
  });

  it('does not send again what the node refused: the refusal is the answer', async () => {
    refuse = new AppError('node_full', 'no room');
    await expect(client.call('media-x', 'registerParticipant', PARAMS)).rejects.toMatchObject({ code: 'node_full' });
    expect(requestIds).toHaveLength(1);
  });

  it('answers unavailable for a node the registry does not know, without sending anything', async () => {
    await expect(client.call('media-gone', 'registerParticipant', PARAMS)).rejects.toMatchObject({ code: 'unavailable' });
    expect(requestIds).toEqual([]);
  });
});
