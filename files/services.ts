import type { RoleContext } from '../common/role.ts';
import type { MeetingEventSink, PresentationState } from '../meeting/contract.ts';
import { BullMqQueue } from './BullMqQueue.ts';
import type { ConversionQueue } from './ConversionQueue.ts';
import { DiskStorage } from './DiskStorage.ts';
import { FileRepository } from './FileRepository.ts';
import { FileService } from './FileService.ts';
import { InProcessQueue } from './InProcessQueue.ts';
import { PresentationService } from './PresentationService.ts';
import { UploadQuota } from './UploadQuota.ts';

type Base = Pick<RoleContext, 'config' | 'backends' | 'logger'>;

/** The files domain with its conversion queue: for processes that upload (api) or convert (files). */
export interface FileServices {
  files: FileService;
  queue: ConversionQueue;
}

/**
 * Presenting reads file records and writes the meeting's presentation: no queue, no storage.
 * Every push node builds this, and only this, of the files tier.
 */
export function presentationService(ctx: Pick<RoleContext, 'backends'>, meeting: { state: PresentationState; events: MeetingEventSink }): PresentationService {
  return new PresentationService(meeting.state, new FileRepository(ctx.backends.store), meeting.events);
}

/** Uploads, storage and the conversion queue (a BullMQ client with Redis), built once per process. */
export function fileServices(ctx: Base, events: MeetingEventSink): FileServices {
  const { config, backends } = ctx;
  const logger = ctx.logger.child({ tier: 'files' });
  const limits = { attempts: config.FILES_CONVERT_ATTEMPTS, timeoutMs: config.FILES_CONVERT_TIMEOUT_MS, concurrency: config.FILES_WORKER_CONCURRENCY };
  const queue: ConversionQueue = backends.redis
    ? new BullMqQueue({ target: backends.redis.target, prefix: backends.redis.prefix, client: backends.redis.client }, { ...limits, workerName: config.nodeId, lockMs: config.FILES_JOB_LOCK_MS }, logger)
    : new InProcessQueue(limits);
  const repo = new FileRepository(backends.store);
  const storedBytes = async (meetingId: string) => (await repo.list(meetingId)).reduce((sum, f) => sum + f.size, 0);
  const quota = new UploadQuota(backends.store, storedBytes, {
    get quotaBytes() {
      return config.FILES_QUOTA_BYTES;
    },
    uploadsPerMeeting: config.FILES_UPLOADS_PER_MEETING,
    uploadsPerParticipant: config.FILES_UPLOADS_PER_PARTICIPANT,
    // Longer than any upload may take (and its checks after): a hold left by a dead process lapses.
    holdMs: config.FILES_UPLOAD_TIMEOUT_MS + 5 * 60_000,
  });
  const files = new FileService(
    repo,
    new DiskStorage(config.FILES_DIR),
    queue,
    quota,
    events,
    {
      get maxBytes() {
        return config.FILES_MAX_BYTES;
      },
      get quotaBytes() {
        return config.FILES_QUOTA_BYTES;
      },
      convertTimeoutMs: config.FILES_CONVERT_TIMEOUT_MS,
      workerId: config.nodeId,
    },
    logger,
  );
  return { files, queue };
}
