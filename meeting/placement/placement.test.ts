import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { NodeRegistry, STALE_MS } from '../../common/NodeRegistry.ts';
import { MemoryStateStore } from '../../common/state/MemoryStateStore.ts';
import { leastLoaded } from './leastLoaded.ts';
import { MediaPlacement } from './MediaPlacement.ts';
import type { MediaLoad, MediaNodeRecord } from './PlacementStrategy.ts';
import { random } from './random.ts';

const LOAD: MediaLoad = { workers: 1, rooms: 0, routers: 0, transports: 0, producers: 0, consumers: 0, maxConsumers: 100, cpu: 0 };
const node = (id: string, load: Partial<MediaLoad> = {}, extra: Partial<MediaNodeRecord> = {}): MediaNodeRecord => ({
  id,
  kind: 'media',
  url: `http://127.0.0.1:9/${id}`,
  state: 'serving',
  updatedAt: Date.now(),
  load: { ...LOAD, ...load },
  ...extra,
});

describe('least-loaded placement', () => {
  it('takes the node with the smallest share of its consumer budget in use', () => {
    const big = node('big', { consumers: 50, maxConsumers: 1000 }); // 5 %
    const small = node('small', { consumers: 10, maxConsumers: 100 }); // 10 %
    expect(leastLoaded.pick([small, big], 'm')?.id).toBe('big');
  });

  it('breaks a tie of consumers by CPU per worker, then by rooms, then by id', () => {
    expect(leastLoaded.pick([node('busy', { cpu: 3, workers: 2 }), node('calm', { cpu: 1, workers: 2 })], 'm')?.id).toBe('calm');
    expect(leastLoaded.pick([node('full-rooms', { rooms: 9 }), node('few-rooms', { rooms: 1 })], 'm')?.id).toBe('few-rooms');
    expect(leastLoaded.pick([node('b'), node('a')], 'm')?.id).toBe('a');
  });

  it('has nothing to pick among no candidates', () => {
    expect(leastLoaded.pick([], 'm')).toBeUndefined();
  });
});

describe('random placement', () => {
  afterEach(() => vi.restoreAllMocks());

  it('picks any candidate, each as likely', () => {
    const candidates = [node('a'), node('b'), node('c')];
    const roll = vi.spyOn(Math, 'random');
    const picked = [0, 0.34, 0.99].map((r) => {
      roll.mockReturnValueOnce(r);
      return random.pick(candidates, 'm')?.id;
    });
    expect(picked).toEqual(['a', 'b', 'c']);
    expect(random.pick([], 'm')).toBeUndefined();
  });
});

describe('MediaPlacement', () => {
  const setup = async (records: MediaNodeRecord[]) => {
    const store = new MemoryStateStore();
    // Written as they are (updatedAt included), so that a test can make a record stale.
    for (const r of records) await store.hashSet('nodes:media', r.id, JSON.stringify(r));
    return { store, placement: new MediaPlacement(new NodeRegistry<MediaLoad>(store, 'media'), leastLoaded) };
  };

  it('considers only nodes that are alive, serving, not full and not excluded', async () => {
    const { store, placement } = await setup([
      node('stale', {}, { updatedAt: Date.now() - STALE_MS - 1000 }),
      node('draining', {}, { state: 'draining' }),
      node('full', { consumers: 100, maxConsumers: 100 }),
      node('tried'),
      node('busy-but-open', { consumers: 90 }),
    ]);
    expect(await placement.pick('m', new Set(['tried']))).toBe('busy-but-open');
    expect(await placement.pick('m')).toBe('tried');
    expect(await placement.isAlive('stale')).toBe(false);
    expect(await placement.isAlive('draining')).toBe(true);
    await store.close();
  });

  it('answers unavailable when no node can take the meeting', async () => {
    const { store, placement } = await setup([node('full', { consumers: 100, maxConsumers: 100 }), node('draining', {}, { state: 'draining' })]);
    const error = await placement.pick('m').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'unavailable' });
    await store.close();
  });
});
