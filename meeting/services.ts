import { NodeRegistry } from '../common/NodeRegistry.ts';
import type { RoleContext } from '../common/role.ts';
import { MEDIA_NODE_KIND, type MediaClient, type MediaLoad } from '../media/contract.ts';
import { AccessGuard } from './AccessGuard.ts';
import { Gestures } from './Gestures.ts';
import { MeetingEvents } from './MeetingEvents.ts';
import { MeetingLifecycle } from './MeetingLifecycle.ts';
import { MeetingRepository } from './MeetingRepository.ts';
import { MeetingService } from './MeetingService.ts';
import { MediaPlacement, STRATEGIES } from './placement/MediaPlacement.ts';
import { PublicationService } from './PublicationService.ts';
import { SeatService } from './SeatService.ts';
import { TokenService } from './tokens.ts';

/** The meeting tier's own view of its services: concrete classes, more than other tiers may call. */
export interface MeetingServices {
  repo: MeetingRepository;
  events: MeetingEvents;
  media: MediaClient;
  tokens: TokenService;
  /** Token checks that also refuse revoked tokens and removed participants: use this at every edge. */
  access: AccessGuard;
  meetings: MeetingService;
  seats: SeatService;
  lifecycle: MeetingLifecycle;
  placement: MediaPlacement;
  publications: PublicationService;
  gestures: Gestures;
}

/**
 * The meeting domain for this process. The wiring builds it once and hands it to every role
 * that needs it (as `MeetingApi` to other tiers); it opens no connection of its own.
 */
export function meetingServices(ctx: Pick<RoleContext, 'config' | 'backends' | 'logger'>, media: MediaClient): MeetingServices {
  const { config, backends } = ctx;
  const logger = ctx.logger.child({ tier: 'meeting' });
  const repo = new MeetingRepository(backends.store);
  const events = new MeetingEvents(backends.bus);
  const tokens = new TokenService(config.jwtSecret);
  const meetings = new MeetingService(
    repo,
    events,
    media,
    tokens,
    {
      publicUrl: config.publicUrl,
      joinTokenTtlS: config.JOIN_TOKEN_TTL_S,
      // Read when used: the config centre may change it on a running process.
      get chatMaxLength() {
        return config.CHAT_MAX_LENGTH;
      },
      endedRetentionMs: config.MEETING_ENDED_RETENTION_MS,
    },
    logger,
  );
  const placement = new MediaPlacement(new NodeRegistry<MediaLoad>(backends.store, MEDIA_NODE_KIND), STRATEGIES[config.PLACEMENT_STRATEGY]!);
  const seats = new SeatService(
    repo,
    meetings,
    events,
    media,
    placement,
    tokens,
    {
      get reconnectGraceMs() {
        return config.RECONNECT_GRACE_MS;
      },
      sessionTokenTtlS: 24 * 3600,
      lockWaitMs: config.SEAT_LOCK_WAIT_MS,
    },
    logger,
  );
  const lifecycle = new MeetingLifecycle(
    repo,
    seats,
    events,
    media,
    { idleEndMs: config.MEETING_IDLE_END_MS, endedRetentionMs: config.MEETING_ENDED_RETENTION_MS, lockWaitMs: config.SEAT_LOCK_WAIT_MS },
    logger,
  );
  const publications = new PublicationService(repo, events, media);
  const access = new AccessGuard(repo, tokens);
  const gestures = new Gestures(repo, events, { lockWaitMs: config.SEAT_LOCK_WAIT_MS, reactionsPer10s: config.REACTIONS_PER_10S });
  return { repo, events, media, tokens, access, meetings, seats, lifecycle, placement, publications, gestures };
}
