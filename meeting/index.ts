import type { RoleContext, RunningRole } from '../common/role.ts';
import { Cleaner } from './Cleaner.ts';
import { NodeWatcher } from './NodeWatcher.ts';
import { meetingServices } from './services.ts';

/**
 * The meeting role's own work: the cleaner that releases expired seats and the watcher that
 * moves participants off lost nodes. Its domain logic runs wherever it is called.
 */
export async function startMeetingRole(ctx: RoleContext): Promise<RunningRole> {
  const services = meetingServices(ctx);
  const logger = ctx.logger.child({ tier: 'meeting' });
  const cleaner = new Cleaner(ctx.backends.store, services.seats, 1000, logger, ctx.metrics);
  const watcher = new NodeWatcher(ctx.backends.store, services.repo, services.seats, 1000, logger, ctx.metrics);
  cleaner.start();
  watcher.start();
  return {
    name: 'meeting',
    close: async () => {
      cleaner.stop();
      watcher.stop();
    },
  };
}
