import { LeasedSweeper } from '../common/LeasedSweeper.ts';
import type { RoleContext, RunningRole } from '../common/role.ts';
import type { SeatedReader } from '../meeting/contract.ts';
import { ConversionMetrics } from './ConversionMetrics.ts';
import type { FileService } from './FileService.ts';
import type { FileServices } from './services.ts';

/**
 * The files role: converts decks taken from the queue, and once a minute (one node at a time,
 * under a lease) removes files of long-ended meetings and uploads that died mid-way.
 */
export async function startFilesRole(ctx: RoleContext, services: FileServices, meetings: Pick<SeatedReader, 'getMeeting'>): Promise<RunningRole> {
  const logger = ctx.logger.child({ tier: 'files' });
  const { files, queue } = services;
  const metrics = new ConversionMetrics(queue, ctx.metrics, logger);
  queue.work(metrics.measured((job, attempt, signal) => files.convert(job, attempt, signal), ctx.config.FILES_CONVERT_ATTEMPTS));

  const cleaner = new LeasedSweeper(
    { name: 'files-cleaner', intervalMs: 60_000, leaseMs: 5 * 60_000, store: ctx.backends.store, logger, metrics: ctx.metrics },
    async () => {
      const result = await cleanEndedMeetingFiles(files, meetings, ctx.config.FILES_RETENTION_MS);
      if (result.meetings || result.temporaries) logger.info(result, 'cleaned files');
    },
  );
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

/**
 * One sweep of the files cleaner: the files (records, index and stored bytes) of meetings that
 * ended more than `retentionMs` ago, or whose records have expired, and stale temporaries.
 */
export function cleanEndedMeetingFiles(files: FileService, meetings: Pick<SeatedReader, 'getMeeting'>, retentionMs: number): Promise<{ meetings: number; temporaries: number }> {
  return files.clean(async (meetingId) => {
    const meeting = await meetings.getMeeting(meetingId);
    return meeting === null || (meeting.endedAt !== undefined && Date.now() - meeting.endedAt > retentionMs);
  });
}
