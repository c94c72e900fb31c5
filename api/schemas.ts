import { z } from 'zod';
import { dialUriSchema } from '../gateway-sip/contract.ts';
import { grantsSchema as grants, iceServer, mediaSource, videoCodecSetting } from '../protocol/src/index.ts';
import { displayText } from '../protocol/src/text.ts';

export const meetingIdParams = z.object({ meetingId: z.string().regex(/^[A-Za-z0-9]{4,32}$/, 'is not a meeting id') });
export const participantParams = meetingIdParams.extend({ participantId: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'is not a participant id') });

export const createMeetingBody = z
  .object({
    title: displayText(1, 200).optional(),
    password: z.string().min(4).max(128).optional(),
    maxParticipants: z.number().int().min(1).max(1000).optional(),
    locked: z.boolean().optional(),
    /** `auto` (default): the server picks a codec every participant decodes; else everyone publishes this one. */
    videoCodec: videoCodecSetting.optional(),
  })
  .strict();

export const updateMeetingBody = z
  .object({
    title: displayText(1, 200).optional(),
    locked: z.boolean().optional(),
    maxParticipants: z.number().int().min(1).max(1000).optional(),
    videoCodec: videoCodecSetting.optional(),
  })
  .strict();

export const joinBody = z
  .object({
    name: displayText(1, 64),
    password: z.string().max(128).optional(),
    hostKey: z.string().max(128).optional(),
    /** `host` without a host key needs the API key. */
    role: z.enum(['host', 'guest']).optional(),
  })
  .strict();

export const removeQuery = z.object({ ban: z.enum(['true', 'false']).optional() }).strict();

export const muteBody = z.object({ source: mediaSource.optional() }).strict();

export const meetingView = z.object({
  id: z.string(),
  title: z.string(),
  locked: z.boolean(),
  maxParticipants: z.number(),
  videoCodec: videoCodecSetting.optional(),
  /** The phone PIN: only for hosts (the API key, the host key's token); it admits by phone. */
  pin: z.string().optional(),
  joinUrl: z.string(),
  requiresPassword: z.boolean(),
  createdAt: z.number(),
  endedAt: z.number().nullable(),
  participantCount: z.number(),
});

export const createdMeeting = meetingView.extend({ pin: z.string(), hostKey: z.string(), hostJoinUrl: z.string() });

export const joinResponse = z.object({
  token: z.string(),
  participantId: z.string(),
  meetingId: z.string(),
  role: z.enum(['host', 'guest']),
  grants,
  expiresAt: z.number(),
  signalingUrl: z.string(),
  /** STUN/TURN servers for the media transports (empty without TURN_URLS). */
  iceServers: z.array(iceServer),
  /**
   * The meeting router's RTP capabilities (what `getRouterRtpCapabilities` answers), so the
   * client loads its device while its socket connects. Absent when no media node could be had.
   */
  rtpCapabilities: z.record(z.string(), z.unknown()).optional(),
});

export const participantsResponse = z.object({
  participants: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      role: z.enum(['host', 'guest']),
      grants,
      kind: z.enum(['browser', 'bot', 'phone']),
      connection: z.enum(['connected', 'reconnecting']),
      joinedAt: z.number(),
    }),
  ),
});

export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  code: z.string(),
  detail: z.string(),
  details: z.unknown().optional(),
});

export const dialBody = z
  .object({
    uri: dialUriSchema,
  })
  .strict();
export const dialResponse = z.object({ callId: z.string(), gatewayId: z.string() });

export const siteInfo = z.object({
  /** Anyone may start a meeting (POST /v1/meetings without X-Api-Key). */
  openMeetings: z.boolean(),
});
