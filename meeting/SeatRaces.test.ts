import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleaner } from './Cleaner.ts';
import { type MeetingDomain, meetingDomain } from './domainFixture.ts';

const ROUNDS = 36;

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** The outcome of a join: resumed or new, or the code it was refused with. */
async function outcome(join: Promise<{ result: { resumed: boolean } }>): Promise<string> {
  try {
    return (await join).result.resumed ? 'resumed' : 'new seat';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('seat races on the memory backends', () => {
  let d: MeetingDomain;
  let open: MeetingDomain | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  const heldSeat = async (graceMs?: number) => {
    if (!open) {
      d = await meetingDomain({ graceMs });
      open = d;
    }
    const { id: meetingId } = await d.meetings.create({ title: 'races' });
    const watch = await d.watch(meetingId);
    const alice = await d.seat(meetingId, 'alice', 'socket-1');
    await d.seats.disconnected(meetingId, alice.id, 'socket-1');
    return { meetingId, watch, alice };
  };
  const resume = (session: Parameters<MeetingDomain['seats']['join']>[0], socketId = 'socket-2') =>
    d.seats.join(session, socketId, { rtpCapabilities: {}, receiveVideo: false }, 'push-a');

  describe('leave against resume', () => {
    it('resume first: the seat is taken back, then the leave ends it, announced once', async () => {
      const { meetingId, watch, alice } = await heldSeat();
      expect(await outcome(resume(alice.session))).toBe('resumed');
      await d.seats.leave(meetingId, alice.id, 'left');
      await watch.settled();
      expect(await d.repo.getParticipant(meetingId, alice.id)).toBeNull();
      expect(watch.left(alice.id)).toEqual([{ participantId: alice.id, reason: 'left' }]);
    });

    it('leave first: the session token cannot bring the seat back', async () => {
      const { meetingId, watch, alice } = await heldSeat();
      await d.seats.leave(meetingId, alice.id, 'left');
      expect(await outcome(resume(alice.session))).toBe('participant_not_found');
      await watch.settled();
      expect(await d.repo.getParticipant(meetingId, alice.id)).toBeNull();
      expect(watch.left(alice.id)).toHaveLength(1);
    });

    it('at the same time, in any interleaving: the seat is gone, announced exactly once, and never retaken', async () => {
      d = await meetingDomain();
      open = d;
      const seen = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        const { meetingId, watch, alice } = await heldSeat();
        // The leave starts a varying number of turns of the event loop after the resume, so
        // the rounds cover the interleavings of their steps.
        const joining = outcome(resume(alice.session));
        await turns(round % 12);
        const [, joined] = await Promise.all([d.seats.leave(meetingId, alice.id, 'left'), joining]);
        seen.add(joined);
        expect(['resumed', 'participant_not_found']).toContain(joined);
        await watch.settled();
        expect(await d.repo.getParticipant(meetingId, alice.id)).toBeNull();
        expect(watch.left(alice.id)).toEqual([{ participantId: alice.id, reason: 'left' }]);
        // Nothing is left for the cleaner to announce a second time.
        expect(await d.seats.releaseExpired(Date.now() + 3_600_000)).toBe(0);
      }
      // Both orders happened, so the invariants above were checked against each.
      expect([...seen].sort()).toEqual(['participant_not_found', 'resumed']);
    });
  });

  describe('cleaner against rejoin', () => {
    const cleaner = () => new Cleaner(d.store, d.seats, d.lifecycle, { intervalMs: 1000, idleCheckMs: 3_600_000 }, pino({ level: 'silent' }));

    it('rejoin first: the cleaner leaves the retaken seat alone and forgets it was on hold', async () => {
      const { meetingId, watch, alice } = await heldSeat(0);
      expect(await outcome(resume(alice.session))).toBe('resumed');
      expect(await cleaner().sweep()).toBe('swept');
      await watch.settled();
      expect(await d.repo.getParticipant(meetingId, alice.id)).toMatchObject({ connection: 'connected', socketId: 'socket-2' });
      expect(watch.left(alice.id)).toEqual([]);
      expect(await d.repo.reconnecting()).toEqual([]);
    });

    it('cleaner first: the seat is released as timed out, and the rejoin is told so', async () => {
      const { watch, alice } = await heldSeat(0);
      expect(await d.seats.releaseExpired()).toBe(1);
      expect(await outcome(resume(alice.session))).toBe('participant_not_found');
      await watch.settled();
      expect(watch.left(alice.id)).toEqual([{ participantId: alice.id, reason: 'timeout' }]);
    });

    it('at the same time: either the seat is back and nobody saw it leave, or it left once and the rejoin was refused', async () => {
      d = await meetingDomain({ graceMs: 0 });
      open = d;
      const seen = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        const { meetingId, watch, alice } = await heldSeat();
        const joining = outcome(resume(alice.session));
        await turns(round % 12);
        const [released, joined] = await Promise.all([d.seats.releaseExpired(), joining]);
        seen.add(joined);
        await watch.settled();
        const seat = await d.repo.getParticipant(meetingId, alice.id);
        if (joined === 'resumed') {
          expect(released).toBe(0);
          expect(seat).toMatchObject({ connection: 'connected', socketId: 'socket-2' });
          expect(watch.left(alice.id)).toEqual([]);
        } else {
          expect(joined).toBe('participant_not_found');
          expect(released).toBe(1);
          expect(seat).toBeNull();
          expect(watch.left(alice.id)).toEqual([{ participantId: alice.id, reason: 'timeout' }]);
        }
      }
      expect([...seen].sort()).toEqual(['participant_not_found', 'resumed']);
    });

    it('a seat still within its grace period is kept', async () => {
      const { meetingId, watch, alice } = await heldSeat(3_600_000);
      expect(await cleaner().sweep()).toBe('swept');
      await watch.settled();
      expect(await d.repo.getParticipant(meetingId, alice.id)).toMatchObject({ connection: 'reconnecting' });
      expect(watch.left(alice.id)).toEqual([]);
    });
  });

  describe('session tokens after the seat is released', () => {
    it('after a leave, a grace period running out, or a removal, the session token gets no seat', async () => {
      d = await meetingDomain({ graceMs: 0 });
      open = d;
      const { id: meetingId } = await d.meetings.create({ title: 'tokens' });

      const left = await d.seat(meetingId, 'left');
      await d.seats.leave(meetingId, left.id, 'left');
      expect(await outcome(resume(left.session, 'socket-left-2'))).toBe('participant_not_found');

      const timedOut = await d.seat(meetingId, 'timed-out');
      await d.seats.disconnected(meetingId, timedOut.id, `socket-timed-out`);
      await d.seats.releaseExpired();
      expect(await outcome(resume(timedOut.session, 'socket-timed-out-2'))).toBe('participant_not_found');

      const removed = await d.seat(meetingId, 'removed');
      await d.seats.remove(meetingId, removed.id, null);
      expect(await outcome(resume(removed.session, 'socket-removed-2'))).toBe('token_revoked');
      expect(await d.repo.isTokenRevoked(removed.session.jti!)).toBe(true);

      for (const id of [left.id, timedOut.id, removed.id]) expect(await d.repo.getParticipant(meetingId, id)).toBeNull();
    });

    it('a session token resumes a held seat as the same participant, closing the old socket', async () => {
      const { alice } = await heldSeat();
      const { result, previousSocketId } = await resume(alice.session);
      expect(result.resumed).toBe(true);
      expect(result.self.id).toBe(alice.id);
      expect(previousSocketId).toBe('socket-1');
    });
  });
});
