import { afterEach, describe, expect, it } from 'vitest';
import { STALE_MS } from '../common/NodeRegistry.ts';
import { LOAD, type MeetingDomain, meetingDomain } from './domainFixture.ts';

describe('joining places media, trying other nodes when one refuses', () => {
  let d: MeetingDomain;
  afterEach(async () => d?.close());

  const join = async (meetingId: string, name: string) => {
    const claims = await d.joinClaims(meetingId, name);
    return { claims, joined: await d.seats.join(claims, `socket-${name}`, { rtpCapabilities: {}, receiveVideo: false }, 'push-a') };
  };

  it('places the meeting once, on a live node, and every participant on it', async () => {
    d = await meetingDomain({ nodes: ['media-a', 'media-b'] });
    const { id: meetingId } = await d.meetings.create({ title: 'placement' });
    await join(meetingId, 'alice');
    await join(meetingId, 'bob');
    const placed = (await d.repo.getMeeting(meetingId))?.mediaNodeId;
    expect(placed).toBeDefined();
    expect(d.media.nodesCalled('registerParticipant')).toEqual([placed, placed]);
  });

  it('moves on to another node when the meeting node is full or draining, and records where the participant landed', async () => {
    d = await meetingDomain({ nodes: ['media-a', 'media-b'] });
    const { id: meetingId } = await d.meetings.create({ title: 'retry' });
    const primary = await d.seats.mediaNodeFor(meetingId);
    const other = primary === 'media-a' ? 'media-b' : 'media-a';
    d.media.refusing.set(primary, 'node_full');
    const { claims } = await join(meetingId, 'carol');
    expect(d.media.nodesCalled('registerParticipant')).toEqual([primary, other]);
    expect((await d.repo.getParticipant(meetingId, claims.sub))?.mediaNodeId).toBe(other);
  });

  it('gives the seat back when no node takes the participant, and announces nothing', async () => {
    d = await meetingDomain({ nodes: ['media-a', 'media-b'] });
    const { id: meetingId } = await d.meetings.create({ title: 'nowhere' });
    const watch = await d.watch(meetingId);
    d.media.refusing.set('media-a', 'node_draining');
    d.media.refusing.set('media-b', 'node_full');
    const claims = await d.joinClaims(meetingId, 'dave');
    await expect(d.seats.join(claims, 'socket-dave', { rtpCapabilities: {}, receiveVideo: false }, 'push-a')).rejects.toMatchObject({ code: 'unavailable' });
    await watch.settled();
    expect(await d.repo.getParticipant(meetingId, claims.sub)).toBeNull();
    expect(watch.events.filter((e) => e.event === 'participantJoined')).toEqual([]);
  });

  it('does not try another node for an error of the request itself', async () => {
    d = await meetingDomain({ nodes: ['media-a', 'media-b'] });
    const { id: meetingId } = await d.meetings.create({ title: 'bad' });
    const primary = await d.seats.mediaNodeFor(meetingId);
    d.media.refusing.set(primary, 'bad_request');
    const claims = await d.joinClaims(meetingId, 'erin');
    await expect(d.seats.join(claims, 'socket-erin', { rtpCapabilities: {}, receiveVideo: false }, 'push-a')).rejects.toMatchObject({ code: 'bad_request' });
    expect(d.media.nodesCalled('registerParticipant')).toEqual([primary]);
    expect(await d.repo.getParticipant(meetingId, claims.sub)).toBeNull();
  });

  it('places the meeting again when its node stopped heartbeating', async () => {
    d = await meetingDomain({ nodes: ['media-a'] });
    const { id: meetingId } = await d.meetings.create({ title: 'moved' });
    expect(await d.seats.mediaNodeFor(meetingId)).toBe('media-a');
    const dead = { id: 'media-a', kind: 'media', url: 'http://127.0.0.1:9', state: 'serving', updatedAt: Date.now() - STALE_MS - 1000, load: LOAD };
    await d.store.hashSet('nodes:media', 'media-a', JSON.stringify(dead));
    await d.registry.write({ id: 'media-b', url: 'http://127.0.0.1:9', state: 'serving', load: LOAD });
    expect(await d.seats.mediaNodeFor(meetingId)).toBe('media-b');
    expect((await d.repo.getMeeting(meetingId))?.mediaNodeId).toBe('media-b');
  });
});
