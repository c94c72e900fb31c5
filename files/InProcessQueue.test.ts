import { describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import type { ConversionJob } from './ConversionQueue.ts';
import { InProcessQueue } from './InProcessQueue.ts';

const job = (meetingId: string, n: number): ConversionJob => ({ meetingId, fileId: `${meetingId}-${n}` });

describe('InProcessQueue', () => {
  it("serves meetings in turn: one guest's pile of decks does not hold back another meeting", async () => {
    const queue = new InProcessQueue({ attempts: 1, timeoutMs: 5000, concurrency: 1 });
    for (let n = 1; n <= 5; n++) await queue.enqueue(job('a', n));
    await queue.enqueue(job('b', 1));
    await queue.enqueue(job('c', 1));
    const order: string[] = [];
    queue.work(async (j) => {
      order.push(j.fileId);
      await new Promise((r) => setTimeout(r, 5));
    });
    await waitFor(() => order.length === 7);
    expect(order).toEqual(['a-1', 'b-1', 'c-1', 'a-2', 'a-3', 'a-4', 'a-5']);
    await queue.close();
  });

  it('frees a timed-out slot only once its job has stopped, so concurrency never exceeds the setting', async () => {
    const queue = new InProcessQueue({ attempts: 2, timeoutMs: 150, concurrency: 1 });
    let running = 0;
    let most = 0;
    let attempts = 0;
    queue.work(async (_job, _attempt, signal) => {
      attempts++;
      running++;
      most = Math.max(most, running);
      // A conversion that only notices the deadline when told (it kills its tools), and takes
      // a moment to wind down after that.
      await new Promise<void>((resolve) => {
        const stop = () => setTimeout(resolve, 200);
        if (signal?.aborted) stop();
        else signal?.addEventListener('abort', stop, { once: true });
        setTimeout(resolve, 600);
      });
      running--;
    });
    await queue.enqueue(job('a', 1));
    await queue.enqueue(job('b', 1));
    // Every attempt of both jobs (two each, the retries after a back-off) has run and stopped.
    await waitFor(() => attempts === 4 && running === 0, { timeoutMs: 10_000, what: 'all four attempts' });
    expect(most).toBe(1);
    await queue.close();
  });
});
