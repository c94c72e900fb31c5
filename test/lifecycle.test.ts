import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { cleanEndedMeetingFiles } from '../files/index.ts';
import { Cleaner } from '../meeting/Cleaner.ts';
import { type ServiceHarness, startServiceHarness, tinyPdf } from './support/services.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Small clocks so that a whole life, idle expiry and retention included, takes seconds, with
// room for a loaded 2-core CI machine between steps that must fall inside one period.
const CLOCKS = {
  RECONNECT_GRACE_MS: '150',
  MEETING_IDLE_END_MS: '1000',
  MEETING_ENDED_RETENTION_MS: '1000',
  FILES_RETENTION_MS: '1',
};

/**
 * State always ends: a meeting walked through its whole life under churn (joins, leaves, chat,
 * a deck uploaded, converted and presented, a removal, a reconnect, a grace period running
 * out, a failed join, then the end by a host or by idling) leaves the store with exactly the
 * keys it had before. Run against both StateStores, through the production wiring.
 */
describe.each(['memory', 'redis'] as const)('state lifecycle (%s)', (backend) => {
  let h: ServiceHarness;
  let cleaner: Cleaner;

  beforeAll(async () => {
    h = await startServiceHarness(backend, CLOCKS);
    cleaner = new Cleaner(h.ctx.backends.store, h.meeting.seats, h.meeting.lifecycle, { intervalMs: 1000, idleCheckMs: 0 }, h.ctx.logger);
  });
  afterAll(async () => h?.close());

  const join = async (meetingId: string, name: string, options: { host?: boolean; socket?: string } = {}) => {
    const claims = await h.joinClaims(meetingId, name, options);
    const { result } = await h.meeting.seats.join(claims, options.socket ?? `s-${name}`, { rtpCapabilities: {}, receiveVideo: false }, h.pushNodeId);
    return { claims, result, id: claims.sub };
  };
  const record = async (meetingId: string, participantId: string) => (await h.meeting.repo.getParticipant(meetingId, participantId))!;

  /** Everything a meeting goes through, ended by its host. */
  async function busyMeeting(): Promise<{ meetingId: string; pin: string }> {
    const { id: meetingId, pin } = await h.meeting.meetings.create({ title: 'churn' });
    const [host, ann, ben, cat] = await Promise.all([
      join(meetingId, 'host', { host: true }),
      join(meetingId, 'ann'),
      join(meetingId, 'ben'),
      join(meetingId, 'cat'),
    ]);
    await h.meeting.publications.publish(await record(meetingId, ann.id), { transportId: 't1', kind: 'audio', rtpParameters: {}, source: 'mic' });
    await h.meeting.publications.publish(await record(meetingId, ben.id), { transportId: 't2', kind: 'video', rtpParameters: {}, source: 'camera' });
    await Promise.all([
      h.meeting.gestures.setHand(meetingId, ann.id, true),
      h.meeting.gestures.react(meetingId, ben.id, 'clap'),
      h.meeting.meetings.postChat(meetingId, { id: ann.id, name: 'ann' }, 'hello'),
      h.meeting.meetings.postChat(meetingId, { id: ben.id, name: 'ben' }, 'hi'),
      h.meeting.seats.leave(meetingId, cat.id, 'left'),
      join(meetingId, 'dan').then((dan) => h.meeting.seats.leave(meetingId, dan.id, 'left')),
    ]);

    const pdf = tinyPdf();
    const file = await h.files.files.upload(meetingId, { declaredBytes: pdf.length, uploadedBy: ann.id, open: async () => ({ name: 'deck.pdf', stream: Readable.from([pdf]) }) });
    await waitFor(async () => (await h.files.files.get(meetingId, file.id)).status === 'ready', { timeoutMs: 20_000, what: 'the deck converted' });
    await h.files.presentations.start(await record(meetingId, ann.id), file.id);
    await h.files.presentations.turn(await record(meetingId, ann.id), 1);

    // A join whose media step fails gives its seat back.
    h.media.onRegister = async () => {
      h.media.onRegister = undefined;
      throw Object.assign(new Error('media refused'), { code: 'bad_request' });
    };
    await expect(join(meetingId, 'eve')).rejects.toThrow('media refused');

    // Ben drops and comes back within the grace period, then drops for good.
    await h.meeting.seats.disconnected(meetingId, ben.id, 's-ben');
    const back = await h.meeting.seats.join({ ...ben.claims, typ: 'session' }, 's-ben-2', { rtpCapabilities: {}, receiveVideo: false }, h.pushNodeId);
    expect(back.result.resumed).toBe(true);
    await h.meeting.seats.disconnected(meetingId, ben.id, 's-ben-2');
    await sleep(Number(CLOCKS.RECONNECT_GRACE_MS) + 50);
    await cleaner.sweep();
    expect(await h.meeting.repo.getParticipant(meetingId, ben.id)).toBeNull();

    await h.meeting.seats.remove(meetingId, ann.id, host.id);
    await h.meeting.lifecycle.end(meetingId, host.id);
    await expect(join(meetingId, 'late')).rejects.toMatchObject({ code: 'meeting_ended' });
    return { meetingId, pin };
  }

  /** A meeting someone visits, then nobody ends: the cleaner ends it once idle. */
  async function forgottenMeeting(): Promise<{ meetingId: string; pin: string }> {
    const { id: meetingId, pin } = await h.meeting.meetings.create({ title: 'forgotten' });
    const fay = await join(meetingId, 'fay');
    await h.meeting.meetings.postChat(meetingId, { id: fay.id, name: 'fay' }, 'anyone?');
    await h.meeting.seats.leave(meetingId, fay.id, 'left');
    await cleaner.sweep();
    expect((await h.meeting.repo.getMeeting(meetingId))?.endedAt).toBeUndefined();
    await sleep(Number(CLOCKS.MEETING_IDLE_END_MS) + 50);
    await cleaner.sweep();
    expect((await h.meeting.repo.getMeeting(meetingId))?.endedAt).toBeTypeOf('number');
    return { meetingId, pin };
  }

  /** BullMQ's stalled-jobs marker comes and goes on its own timer (FILES_JOB_LOCK_MS), whatever meetings do. */
  const keys = async () => (await h.keys()).filter((key) => key !== 'bull:deck-conversion:stalled-check');

  /** Waits out the retention of ended meetings, then runs the files cleaner as the files role does. */
  async function afterRetention(): Promise<void> {
    await sleep(Number(CLOCKS.MEETING_ENDED_RETENTION_MS) + 100);
    await cleanEndedMeetingFiles(h.files.files, h.meeting.repo, h.ctx.config.FILES_RETENTION_MS);
    await cleaner.sweep();
  }

  it('gives back every key a meeting took, whether a host ends it or it idles out', async () => {
    // Warm-up: the first meeting creates what outlives any meeting (the conversion queue's own
    // keys, the per-node participant indexes that the node watcher removes with their node).
    await busyMeeting();
    await afterRetention();
    const before = await keys();

    const ended = await busyMeeting();
    const idle = await forgottenMeeting();
    // PINs are free as soon as their meetings end.
    expect(await h.meeting.repo.meetingIdForPin(ended.pin)).toBeNull();
    expect(await h.meeting.repo.meetingIdForPin(idle.pin)).toBeNull();
    await afterRetention();

    expect(await keys()).toEqual(before);
    expect(await h.files.files.storage.meetings()).not.toContain(ended.meetingId);
    expect(await h.meeting.repo.getMeeting(ended.meetingId)).toBeNull();
    expect(await h.meeting.repo.getMeeting(idle.meetingId)).toBeNull();
  });

  it('ends a meeting nobody ever joined once idle, and keeps one that is occupied', async () => {
    const { id: empty, pin } = await h.meeting.meetings.create({ title: 'never used' });
    const { id: busy } = await h.meeting.meetings.create({ title: 'in use' });
    const gus = await join(busy, 'gus');
    await sleep(Number(CLOCKS.MEETING_IDLE_END_MS) + 50);
    await cleaner.sweep();
    expect((await h.meeting.repo.getMeeting(empty))?.endedAt).toBeTypeOf('number');
    expect(await h.meeting.repo.meetingIdForPin(pin)).toBeNull();
    expect((await h.meeting.repo.getMeeting(busy))?.endedAt).toBeUndefined();
    await h.meeting.seats.leave(busy, gus.id, 'left');
    await h.meeting.lifecycle.end(busy, null);
  });

  it('keeps an ended meeting expiring through late writes to its record', async () => {
    const { id } = await h.meeting.meetings.create({ title: 'late writes' });
    await h.meeting.lifecycle.end(id, null);
    // A placement or settings change that read the record just before the end writes after it.
    await h.meeting.repo.updateMeeting(id, (m) => ({ ...m, title: 'written late' }));
    const ttl = await h.ctx.backends.store.ttl(`meeting:${id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(Number(CLOCKS.MEETING_ENDED_RETENTION_MS));
  });

  it('drops a reconnecting seat whose meeting is gone', async () => {
    await h.meeting.repo.markReconnecting('gone-meeting', 'p_ghost', true);
    await cleaner.sweep();
    expect(await h.meeting.repo.reconnecting()).not.toContainEqual({ meetingId: 'gone-meeting', participantId: 'p_ghost' });
  });
});
