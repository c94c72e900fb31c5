import { afterEach, describe, expect, it } from 'vitest';
import { type MeetingDomain, meetingDomain } from './domainFixture.ts';

const opus = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 };
const vp8 = { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 };
const h264 = { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } };
const ALL = { codecs: [opus, vp8, h264] };
const H264_ONLY = { codecs: [opus, h264] };
const AUDIO_ONLY = { codecs: [opus] };

describe('the meeting video codec', () => {
  let d: MeetingDomain;
  afterEach(async () => d?.close());

  const join = async (meetingId: string, name: string, rtpCapabilities: Record<string, unknown>, receiveVideo?: boolean) => {
    const claims = await d.joinClaims(meetingId, name);
    return (await d.seats.join(claims, `socket-${name}`, { rtpCapabilities, receiveVideo }, 'push-a')).result;
  };
  const codecEvents = (watch: Awaited<ReturnType<MeetingDomain['watch']>>) => watch.events.filter((e) => e.event === 'videoCodecChanged').map((e) => e.payload.codec);

  it('under auto is VP8, moves to H264 when an H264-only device joins, and back when it leaves, telling the meeting each time', async () => {
    d = await meetingDomain();
    const { id } = await d.meetings.create({ title: 'codecs' });
    const watch = await d.watch(id);
    expect((await join(id, 'alice', ALL)).videoCodec).toBe('vp8');
    expect((await join(id, 'bob', ALL)).videoCodec).toBe('vp8');
    const carol = await join(id, 'carol', H264_ONLY);
    expect(carol.videoCodec).toBe('h264');
    expect((await d.repo.getMeeting(id))?.videoCodec).toBe('h264');
    await d.seats.leave(id, carol.self.id, 'left');
    await watch.settled();
    expect(codecEvents(watch)).toEqual(['h264', 'vp8']);
  });

  it('refuses a device that decodes no offered video codec with codec_unsupported, and takes it audio-only without moving the codec', async () => {
    d = await meetingDomain();
    const { id } = await d.meetings.create({ title: 'refusal' });
    await join(id, 'alice', ALL);
    await expect(join(id, 'bob', AUDIO_ONLY)).rejects.toMatchObject({ code: 'codec_unsupported' });
    expect(await d.repo.listParticipants(id)).toHaveLength(1);
    const bob = await join(id, 'bob', AUDIO_ONLY, false);
    expect(bob.videoCodec).toBe('vp8');
    expect(await d.repo.listParticipants(id)).toHaveLength(2);
  });

  it('with a set codec, refuses a video join that cannot decode it, and switches everyone when the setting changes', async () => {
    d = await meetingDomain();
    const { id } = await d.meetings.create({ title: 'set', videoCodec: 'h264' });
    expect((await join(id, 'alice', ALL)).videoCodec).toBe('h264');
    await expect(join(id, 'bob', { codecs: [opus, vp8] })).rejects.toMatchObject({ code: 'codec_unsupported' });
    const watch = await d.watch(id);
    const updated = await d.meetings.update(id, { videoCodec: 'vp8' });
    expect(updated.settings.videoCodec).toBe('vp8');
    await watch.settled();
    expect(codecEvents(watch)).toEqual(['vp8']);
    expect(watch.events.find((e) => e.event === 'meetingUpdated')?.payload).toMatchObject({ meeting: { videoCodec: 'vp8' } });
  });
});
