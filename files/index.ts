import { BackgroundLoop } from '../common/BackgroundLoop.ts';
import type { RoleContext, RunningRole } from '../common/role.ts';
import { tryLock } from '../common/state/lock.ts';
import { meetingServices } from '../meeting/services.ts';
import { fileServices } from './services.ts';

/**
 * The files role: converts decks taken from the queue, and once a minute (one node at a time,
 * under a lease) removes files of long-ended meetings and uploads that died mid-way.
 */
export async function startFilesRole(ctx: RoleContext): Promise<RunningRole> {
  const logger = ctx.logger.child({ tier: 'files' });
  const { files, queue } = fileServices(ctx);
  const meetings = meetingServices(ctx);
  queue.work((job, attempt) => files.convert(job, attempt));

  const cleaner = new BackgroundLoop({ name: 'files-cleaner', intervalMs: 60_000, logger, metrics: ctx.metrics }, async () => {
    const lock = await tryLock(ctx.backends.store, 'files-cleaner', 5 * 60_000);
    if (!lock) return;
    try {
      const result = await files.clean(async (meetingId) => {
        const meeting = await meetings.repo.getMeeting(meetingId);
        // Gone from the store (expired long after its end) or ended longer ago than the retention.
        return meeting === null || (meeting.endedAt !== undefined && Date.now() - meeting.endedAt > ctx.config.FILES_RETENTION_MS);
      });
      if (result.meetings || result.temporaries) logger.info(result, 'cleaned files');
    } finally {
      await lock.release().catch(() => undefined);
    }
  });
  cleaner.start({ immediately: true });

  return {
    name: 'files',
    ready: async () => ((await queue.ready()) ? null : 'files: conversion queue unreachable'),
    close: async () => {
      cleaner.stop();
      await queue.close();
    },
  };
}
