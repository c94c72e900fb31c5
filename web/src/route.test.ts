import { describe, expect, it } from 'vitest';
import { inviteLink, parseRoute } from './route.ts';

describe('route', () => {
  it('reads a meeting link with its options', () => {
    expect(parseRoute({ pathname: '/m/abc123', search: '?name=Ann&autojoin=1&nomedia=1&hostKey=k&relay=1' })).toEqual({
      meetingId: 'abc123',
      name: 'Ann',
      autojoin: true,
      nomedia: true,
      hostKey: 'k',
      relay: true,
      videoCodecs: undefined,
    });
  });

  it('reads the video codecs a link limits the device to, ignoring unknown ones', () => {
    expect(parseRoute({ pathname: '/m/abc123', search: '?codecs=h264,av1' }).videoCodecs).toEqual(['h264']);
  });

  it('is the start page without a meeting id', () => {
    expect(parseRoute({ pathname: '/', search: '' }).meetingId).toBeUndefined();
  });

  it('invites without the host key or name', () => {
    expect(inviteLink('https://meet.example', 'abc123')).toBe('https://meet.example/m/abc123');
  });
});
