import type { RoleContext, RunningRole } from '../common/role.ts';
import { Cleaner } from './Cleaner.ts';
import { MeetingGauges } from './MeetingGauges.ts';
import { NodeWatcher } from './NodeWatcher.ts';
import type { MeetingServices } from './services.ts';

/**
 * The meeting role's own work: the cleaner that releases expired seats and ends idle meetings,
 * and the watcher that moves participants off lost nodes. Its domain logic runs wherever it is called.
 */
export async function startMeetingRole(ctx: RoleContext, services: MeetingServices): Promise<RunningRole> {
  const logger = ctx.logger.child({ tier: 'meeting' });
  // Walking every live meeting each second would load Redis for nothing: idle expiry is checked
  // a tenth of its period at most, and at least once a minute.
  const idleCheckMs = Math.min(60_000, Math.ceil(ctx.config.MEETING_IDLE_END_MS / 10));
  const cleaner = new Cleaner(ctx.backends.store, services.seats, services.lifecycle, { intervalMs: 1000, idleCheckMs }, logger, ctx.metrics);
  const watcher = new NodeWatcher(ctx.backends.store, services.repo, services.seats, 1000, logger, ctx.metrics);
  cleaner.start();
  watcher.start();
  new MeetingGauges(services.repo, ctx.metrics, logger);
  return {
    name: 'meeting',
    close: async () => {
      cleaner.stop();
      watcher.stop();
    },
  };
}
