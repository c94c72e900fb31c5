import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../common/errors.ts';
import { type Lock, tryLock } from '../common/state/lock.ts';
import { type ServiceHarness, startServiceHarness } from '../test/support/services.ts';

/** Tracks whether a promise has settled, without waiting for it. */
function track(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

// Every seat change must take the meeting's admission lock (meeting/admission.ts): held by
// someone else, the change waits for it, and gives up with a 503 `busy` after SEAT_LOCK_WAIT_MS.
describe.each(['memory', 'redis'] as const)('seat changes hold the admission lock (%s)', (backend) => {
  let h: ServiceHarness;
  let meetingId: string;
  let held: Lock | null = null;
  const hold = async () => {
    held = await tryLock(h.ctx.backends.store, `admit:${meetingId}`, 30_000);
    expect(held).not.toBeNull();
  };
  const seat = async (name: string, host = false) => {
    const claims = await h.joinClaims(meetingId, name, { host });
    await h.meeting.seats.join(claims, `socket-${name}`, { rtpCapabilities: {}, receiveVideo: false }, h.pushNodeId);
    return claims.sub;
  };
  const seated = async (participantId: string) => (await h.meeting.repo.getParticipant(meetingId, participantId)) !== null;
  /**
   * Resolves once someone has tried for the held admission lock and been refused: the change
   * under test is then waiting for it (it can only finish by taking the lock, which is held).
   */
  const refusedOnce = async () => {
    const store = h.ctx.backends.store;
    const set = store.set.bind(store);
    await new Promise<void>((resolve) => {
      const spy = vi.spyOn(store, 'set').mockImplementation(async (key, value, options) => {
        const done = await set(key, value, options);
        if (key === `lock:admit:${meetingId}` && !done) {
          spy.mockRestore();
          resolve();
        }
        return done;
      });
    });
  };

  beforeEach(async () => {
    h = await startServiceHarness(backend, { SEAT_LOCK_WAIT_MS: '1500' });
    ({ id: meetingId } = await h.meeting.meetings.create({ title: 'locks' }));
  });
  afterEach(async () => {
    await held?.release();
    held = null;
    await h.close();
  });

  it('leave waits for the lock, then answers busy when it cannot be had', async () => {
    const alice = await seat('alice');
    await hold();
    const refused = refusedOnce();
    const leaving = h.meeting.seats.leave(meetingId, alice, 'left');
    const state = track(leaving);
    await refused;
    expect(state.settled).toBe(false);
    expect(await seated(alice)).toBe(true);
    const error = await leaving.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'busy', status: 503 });
    expect(await seated(alice)).toBe(true);

    await held!.release();
    held = null;
    await h.meeting.seats.leave(meetingId, alice, 'left');
    expect(await seated(alice)).toBe(false);
  });

  it('remove waits for the lock and goes ahead once it is free', async () => {
    const bob = await seat('bob');
    await hold();
    const refused = refusedOnce();
    const removing = h.meeting.seats.remove(meetingId, bob, null);
    const state = track(removing);
    await refused;
    expect(state.settled).toBe(false);
    expect(await seated(bob)).toBe(true);
    await held!.release();
    held = null;
    await removing;
    expect(await seated(bob)).toBe(false);
  });

  it('end waits for the lock: no seat can be taken between the end and the release of seats', async () => {
    const carol = await seat('carol', true);
    await hold();
    const refused = refusedOnce();
    const ending = h.meeting.lifecycle.end(meetingId, null);
    const state = track(ending);
    await refused;
    expect(state.settled).toBe(false);
    expect((await h.meeting.repo.getMeeting(meetingId))?.endedAt).toBeUndefined();
    expect(await seated(carol)).toBe(true);
    await held!.release();
    held = null;
    await ending;
    expect(await seated(carol)).toBe(false);
    expect((await h.meeting.repo.getMeeting(meetingId))?.endedAt).toBeTypeOf('number');
  });

  it('end answers busy when the lock stays taken, and ends nothing', async () => {
    await hold();
    await expect(h.meeting.lifecycle.end(meetingId, null)).rejects.toMatchObject({ code: 'busy', status: 503 });
    expect((await h.meeting.repo.getMeeting(meetingId))?.endedAt).toBeUndefined();
  });

  it('a failed join gives its seat back under the lock', async () => {
    const claims = await h.joinClaims(meetingId, 'dave');
    // The media step fails while someone else holds the admission lock: the rollback must wait.
    h.media.onRegister = async () => {
      await hold();
      throw new AppError('bad_request', 'media refused');
    };
    const joining = h.meeting.seats.join(claims, 'socket-dave', { rtpCapabilities: {}, receiveVideo: false }, h.pushNodeId);
    const outcome = joining.catch((e: unknown) => e);
    const state = track(outcome);
    // The rollback tries for the lock the media step took, and is refused.
    await refusedOnce();
    expect(held).not.toBeNull();
    expect(state.settled).toBe(false);
    expect(await seated(claims.sub)).toBe(true);
    await held!.release();
    held = null;
    expect(await outcome).toMatchObject({ code: 'bad_request' });
    expect(await seated(claims.sub)).toBe(false);
  });
});
