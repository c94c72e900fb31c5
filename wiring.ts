import type { RoleContext, RoleName, RunningRole } from './common/role.ts';
import { startApiRole } from './api/index.ts';
import { startFilesRole } from './files/index.ts';
import { fileServices, presentationService } from './files/services.ts';
import { startGatewayRole } from './gateway-sip/index.ts';
import { GatewayClient } from './gateway-sip/GatewayClient.ts';
import { createMediaClient } from './media/createMediaClient.ts';
import { createMediaNode, startMediaRole } from './media/index.ts';
import { startMeetingRole } from './meeting/index.ts';
import { meetingServices } from './meeting/services.ts';
import { startPushRole } from './push/index.ts';

/**
 * The composition root: builds each domain service of this process once and hands every role
 * its dependencies, typed. The order below is the one the types force: the media node (when
 * this process runs one) before the media client that calls it in-process, the client before
 * the meeting services that use it, the gateway before the api's dialer that may call it
 * in-process. Roles are pushed onto `running` as they start, so that a failure half-way still
 * lets the caller close what did start.
 */
export async function startRoles(ctx: RoleContext, roles: readonly RoleName[], running: RunningRole[]): Promise<void> {
  const has = (role: RoleName) => roles.includes(role);

  const mediaNode = has('media') ? await createMediaNode(ctx) : undefined;
  const media = createMediaClient(ctx, mediaNode?.node);
  const meeting = meetingServices(ctx, media);

  if (mediaNode) running.push(await startMediaRole(ctx, mediaNode, { client: media, seats: meeting.repo }));
  if (has('meeting')) running.push(await startMeetingRole(ctx, meeting));

  const gateway = has('gateway-sip') ? await startGatewayRole(ctx, meeting) : undefined;
  if (gateway) running.push(gateway);

  // The queue client exists only where files are uploaded (api) or converted (files).
  const files = has('api') || has('files') ? fileServices(ctx, meeting.events) : undefined;
  if (has('api') && files) {
    running.push(await startApiRole(ctx, { meeting, files: files.files, dialer: new GatewayClient(ctx, gateway?.gateway) }));
  }
  if (has('push')) {
    const presentations = presentationService(ctx, { state: meeting.repo, events: meeting.events });
    running.push(await startPushRole(ctx, { meeting, media, presentations }));
  }
  if (has('files') && files) running.push(await startFilesRole(ctx, files, meeting.repo));
}
