import pino from 'pino';
import type { EventBus } from '../common/bus/EventBus.ts';
import { MemoryEventBus } from '../common/bus/MemoryEventBus.ts';
import { AppError, type ErrorCode } from '../common/errors.ts';
import { NodeRegistry } from '../common/NodeRegistry.ts';
import { MemoryStateStore } from '../common/state/MemoryStateStore.ts';
import type { MediaClient, MediaMethodName, MediaParams, MediaResult } from '../media/contract.ts';
import { MeetingEvents, meetingChannel } from './MeetingEvents.ts';
import { MeetingLifecycle } from './MeetingLifecycle.ts';
import { MeetingRepository } from './MeetingRepository.ts';
import { MeetingService } from './MeetingService.ts';
import { MediaPlacement } from './placement/MediaPlacement.ts';
import type { MediaLoad } from './placement/PlacementStrategy.ts';
import { leastLoaded } from './placement/leastLoaded.ts';
import { SeatService } from './SeatService.ts';
import { type TokenClaims, TokenService } from './tokens.ts';

/**
 * Test support for the meeting domain's unit tests: the real services on the memory backends,
 * with a media client that answers without mediasoup. Not a test file itself.
 */
export class FakeMediaClient implements MediaClient {
  readonly calls: Array<{ nodeId: string; method: MediaMethodName; params: unknown }> = [];
  /** Nodes that refuse new participants, with the code they answer. */
  readonly refusing = new Map<string, ErrorCode>();

  async call<M extends MediaMethodName>(nodeId: string, method: M, params: MediaParams<M>): Promise<MediaResult<M>> {
    this.calls.push({ nodeId, method, params });
    const refusal = this.refusing.get(nodeId);
    if (refusal && method === 'registerParticipant') throw new AppError(refusal, `${nodeId} refuses`);
    const answer = method === 'registerParticipant' ? { activeSpeakerId: null } : {};
    return answer as MediaResult<M>;
  }

  /** The nodes `method` was called on, in order. */
  nodesCalled(method: MediaMethodName): string[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.nodeId);
  }
}

export const LOAD: MediaLoad = { workers: 1, rooms: 0, routers: 0, transports: 0, producers: 0, consumers: 0, maxConsumers: 500, cpu: 0 };

export interface MeetingDomain {
  store: MemoryStateStore;
  bus: EventBus;
  repo: MeetingRepository;
  media: FakeMediaClient;
  tokens: TokenService;
  meetings: MeetingService;
  seats: SeatService;
  lifecycle: MeetingLifecycle;
  registry: NodeRegistry<MediaLoad>;
  /** Claims of a fresh join token, as the join route issues them. */
  joinClaims(meetingId: string, name: string, options?: { host?: boolean }): Promise<TokenClaims>;
  /** Takes a seat as a socket would; returns the participant id and its session token's claims. */
  seat(meetingId: string, name: string, socketId?: string): Promise<{ id: string; session: TokenClaims }>;
  /** Records what the meeting's channel carries; `settled()` waits for everything published so far. */
  watch(meetingId: string): Promise<MeetingWatch>;
  close(): Promise<void>;
}

export interface MeetingWatch {
  events: Array<{ event: string; payload: Record<string, unknown> }>;
  /** Publishes a marker after everything so far and waits for it: then every earlier event is here. */
  settled(): Promise<void>;
  left(participantId: string): Array<{ participantId: string; reason: string }>;
}

export async function meetingDomain(options: { graceMs?: number; nodes?: string[] } = {}): Promise<MeetingDomain> {
  const store = new MemoryStateStore();
  const bus = new MemoryEventBus();
  const logger = pino({ level: 'silent' });
  const repo = new MeetingRepository(store);
  const events = new MeetingEvents(bus);
  const media = new FakeMediaClient();
  const tokens = new TokenService('meeting-domain-test-secret-long-enough');
  const meetings = new MeetingService(repo, events, media, tokens, { publicUrl: 'http://127.0.0.1', joinTokenTtlS: 3600, chatMaxLength: 2000, endedRetentionMs: 60_000 }, logger);
  const registry = new NodeRegistry<MediaLoad>(store, 'media');
  for (const id of options.nodes ?? ['media-a']) await registry.write({ id, url: 'http://127.0.0.1:9', state: 'serving', load: LOAD });
  const placement = new MediaPlacement(registry, leastLoaded);
  const seats = new SeatService(repo, meetings, events, media, placement, tokens, { reconnectGraceMs: options.graceMs ?? 60_000, sessionTokenTtlS: 3600, lockWaitMs: 5000 }, logger);
  const lifecycle = new MeetingLifecycle(repo, seats, events, media, { idleEndMs: 60_000, endedRetentionMs: 60_000, lockWaitMs: 5000 }, logger);
  const offs: Array<() => Promise<void>> = [];
  let markers = 0;

  const domain: MeetingDomain = {
    store,
    bus,
    repo,
    media,
    tokens,
    meetings,
    seats,
    lifecycle,
    registry,
    async joinClaims(meetingId, name, claimOptions = {}) {
      const { token } = await meetings.issueJoinToken(meetingId, { name, asHost: claimOptions.host === true });
      return tokens.verify(token, meetingId);
    },
    async seat(meetingId, name, socketId = `socket-${name}`) {
      const claims = await domain.joinClaims(meetingId, name);
      const { result } = await seats.join(claims, socketId, { rtpCapabilities: {}, receiveVideo: false }, 'push-a');
      return { id: claims.sub, session: await tokens.verify(result.sessionToken, meetingId) };
    },
    async watch(meetingId) {
      const seen: MeetingWatch['events'] = [];
      const waiting = new Map<number, () => void>();
      offs.push(
        await bus.subscribe(meetingChannel(meetingId), (message) => {
          const m = message as { event?: string; payload?: Record<string, unknown>; marker?: number };
          if (m.marker !== undefined) waiting.get(m.marker)?.();
          else seen.push({ event: m.event ?? '', payload: m.payload ?? {} });
        }),
      );
      return {
        events: seen,
        settled: async () => {
          const marker = ++markers;
          const arrived = new Promise<void>((resolve) => waiting.set(marker, resolve));
          await bus.publish(meetingChannel(meetingId), { marker });
          await arrived;
        },
        left: (participantId) =>
          seen.filter((e) => e.event === 'participantLeft' && e.payload.participantId === participantId).map((e) => e.payload as { participantId: string; reason: string }),
      };
    },
    async close() {
      for (const off of offs) await off();
      await bus.close();
      await store.close();
    },
  };
  return domain;
}
