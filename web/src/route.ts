import type { VideoCodec } from './session.ts';

const VIDEO_CODECS: readonly VideoCodec[] = ['vp8', 'h264', 'vp9'];

/** What the address asks for: the start page, or a meeting with the options of its link. */
export interface Route {
  meetingId?: string;
  name?: string;
  autojoin: boolean;
  /** Join without microphone and camera (tests, listeners). */
  nomedia: boolean;
  hostKey?: string;
  /** Send media only through TURN (`?relay=1`): to hide one's addresses, or to test TURN. */
  relay: boolean;
  /** `?codecs=h264`: receive only these video codecs (a device that decodes less than it claims; tests). */
  videoCodecs?: VideoCodec[];
}

export function parseRoute(location: Pick<Location, 'pathname' | 'search'>): Route {
  const params = new URLSearchParams(location.search);
  return {
    meetingId: location.pathname.match(/^\/m\/([A-Za-z0-9_-]+)/)?.[1],
    name: params.get('name') ?? undefined,
    autojoin: params.has('autojoin'),
    nomedia: params.has('nomedia'),
    hostKey: params.get('hostKey') ?? undefined,
    relay: params.has('relay'),
    videoCodecs: params.has('codecs') ? VIDEO_CODECS.filter((c) => params.get('codecs')!.split(',').includes(c)) : undefined,
  };
}

/** The link to give others: the meeting page without this person's host key or name. */
export function inviteLink(origin: string, meetingId: string): string {
  return `${origin}/m/${meetingId}`;
}
