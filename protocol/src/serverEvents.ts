import { z } from 'zod';
import { chatMessage, fileInfo, mediaSource, meetingSummary, participantInfo, presentation, producerInfo, reaction, videoCodec } from './records.ts';

/**
 * Server → client events. `.describe()` carries the notes of the docs table. Clients ignore
 * fields they do not know, so the server may add optional ones within a version.
 */
export const serverEvents = {
  participantJoined: z.object({ participant: participantInfo }),
  participantUpdated: z.object({ participant: participantInfo }).describe('a hand went up or down (`handRaisedAt`)'),
  participantLeft: z.object({ participantId: z.string(), reason: z.enum(['left', 'timeout', 'removed', 'ended']) }),
  producerAdded: z.object({ producer: producerInfo }),
  producerUpdated: z.object({ producer: producerInfo }).describe('paused = muted'),
  producerClosed: z.object({ producerId: z.string(), participantId: z.string() }),
  consumerClosed: z.object({ consumerId: z.string(), producerId: z.string() }),
  activeSpeaker: z.object({ participantId: z.string().nullable() }).describe('mediasoup ActiveSpeakerObserver over audio producers'),
  reaction: z
    .object({ participantId: z.string(), reaction, at: z.number() })
    .describe('someone reacted; not echoed to the sender, not kept for late joiners'),
  chatMessage: z.object({ message: chatMessage }).describe('not echoed to the sender'),
  meetingUpdated: z.object({ meeting: meetingSummary }),
  videoCodecChanged: z
    .object({ codec: videoCodec })
    .describe('publish video with this codec from now on: close your video producers and produce them again with it (no rejoin). Sent when the setting changes, or under `auto` when who is in the meeting changes what all can decode'),
  moderation: z
    .object({ action: z.enum(['mute', 'remove', 'end']), source: mediaSource.optional(), by: z.string().nullable() })
    .describe('a moderator acted on you (muted your source, removed you) or on the meeting (ended it); `by` is null when the API key acted, or an idle meeting ended'),
  fileUpdated: z
    .object({ file: fileInfo, deleted: z.boolean().optional() })
    .describe('a file of the meeting changed: uploaded, converting (with progress), ready, partial, failed, deleted'),
  presentation: z.object({ presentation: presentation.nullable() }).describe('the presented deck or page changed; null when presenting stopped'),
  mediaReset: z
    .object({ reason: z.enum(['node_lost', 'state_lost']) })
    .describe(
      'make new transports and publish again (`node_lost`: your media node is gone, the seat is kept); `state_lost`: the store lost the seat, take it back with `join` (a session token that cannot gets `participant_not_found`)',
    ),
  meetingEnded: z
    .object({ reason: z.enum(['state_lost']) })
    .describe('the meeting is gone from the store (Redis came back empty); the server closes the socket next'),
  protocolError: z
    .object({ event: z.string(), code: z.string(), message: z.string() })
    .describe('a message the server could not route to a handler, or that failed and had no ack function'),
} as const;

export type ServerEvents = { [N in keyof typeof serverEvents]: z.infer<(typeof serverEvents)[N]> };
export type ServerEventName = keyof ServerEvents;

/**
 * An event as it travels on the bus channel `meeting:<id>`; push nodes deliver it to the
 * meeting's sockets, or to one participant (`to`), skipping `except`.
 */
export type MeetingEvent = {
  [N in ServerEventName]: { event: N; payload: ServerEvents[N]; to?: string; except?: string };
}[ServerEventName];
