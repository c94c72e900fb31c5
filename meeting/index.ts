import type { RoleContext, RunningRole } from '../common/role.js';
import { Cleaner } from './Cleaner.js';
import { meetingServices } from './services.js';

/** The meeting role's own work: the cleaner. Its domain logic runs wherever it is called. */
export async function startMeetingRole(ctx: RoleContext): Promise<RunningRole> {
  const services = meetingServices(ctx);
  const cleaner = new Cleaner(ctx.backends.store, services.seats, 1000, ctx.logger.child({ tier: 'meeting' }));
  cleaner.start();
  return { name: 'meeting', close: async () => cleaner.stop() };
}
