import type { RoleContext, RunningRole } from '../common/role.ts';
import { tryLock } from '../common/state/lock.ts';
import { meetingServices } from '../meeting/services.ts';
import { fileServices } from './services.ts';
import { detach } from '../common/detach.ts';

/**
 * The files role: converts decks taken from the queue, and once a minute (one node at a time,
 * under a lease) removes files of long-ended meetings and uploads that died mid-way.
 */
export async function startFilesRole(ctx: RoleContext): Promise<RunningRole> {
  const logger = ctx.logger.child({ tier: 'files' });
  const { files, queue } = fileServices(ctx);
  const meetings = meetingServices(ctx);
  queue.work((job, attempt, signal) => files.convert(job, attempt, signal));

  const clean = async () => {
    const lock = await tryLock(ctx.backends.store, 'files-cleaner', 5 * 60_000).catch(() => null);
    if (!lock) return;
    try {
      const result = await files.clean(async (meetingId) => {
        const meeting = await meetings.repo.getMeeting(meetingId);
        // Gone from the store (expired long after its end) or ended longer ago than the retention.
        return meeting === null || (meeting.endedAt !== undefined && Date.now() - meeting.endedAt > ctx.config.FILES_RETENTION_MS);
      });
      if (result.meetings || result.temporaries) logger.info(result, 'cleaned files');
    } catch (error) {
      logger.error({ err: error }, 'file cleaning failed');
    } finally {
      await lock.release().catch(() => undefined);
    }
  };
  const timer = setInterval(() => detach(logger, 'files cleaner', clean()), 60_000);
  timer.unref();
  detach(logger, 'files cleaner', clean());

  return {
    name: 'files',
    close: async () => {
      clearInterval(timer);
      await queue.close();
    },
  };
}
