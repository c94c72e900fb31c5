import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, testPrefix, waitFor } from '../common/testing.ts';
import { BullMqQueue } from './BullMqQueue.ts';

describe('BullMqQueue', () => {
  const prefix = testPrefix('bullfair');
  const client = new Redis(TEST_REDIS_URL);
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length) await client.del(...keys);
    client.disconnect();
  });

  it("serves meetings in turn: one guest's pile of decks does not hold back another meeting", async () => {
    const queue = new BullMqQueue(
      { target: { kind: 'url', url: TEST_REDIS_URL }, prefix, client },
      { attempts: 1, timeoutMs: 5000, concurrency: 1, workerName: 'fair-test' },
      pino({ level: 'silent' }),
    );
    for (let n = 1; n <= 4; n++) await queue.enqueue({ meetingId: 'a', fileId: `a-${n}` });
    await queue.enqueue({ meetingId: 'b', fileId: 'b-1' });
    await queue.enqueue({ meetingId: 'c', fileId: 'c-1' });
    const order: string[] = [];
    queue.work(async (job) => {
      order.push(job.fileId);
    });
    await waitFor(() => order.length === 6, { timeoutMs: 15_000 });
    expect(order).toEqual(['a-1', 'b-1', 'c-1', 'a-2', 'a-3', 'a-4']);
    // Every job is finished: the meetings' counts are gone, so their next decks start in front.
    await waitFor(async () => (await client.keys(`${prefix}files:queued:*`)).length === 0);
    await queue.close();
  });
});
