import type { FastifyInstance } from 'fastify';
import { AppError } from '../common/errors.ts';
import { requireInternalKey } from '../common/internalKey.ts';
import { DIAL_PATH, dialRequestSchema } from './contract.ts';
import type { LocalGateway } from './GatewayClient.ts';

/** Lets the api tier of any process ask this gateway to call out. */
export function registerGatewayRoutes(http: FastifyInstance, internalKey: string, gateway: LocalGateway): void {
  http.post(DIAL_PATH, { schema: { hide: true } }, async (request) => {
    requireInternalKey(request, internalKey);
    const parsed = dialRequestSchema.safeParse(request.body);
    if (!parsed.success) throw new AppError('validation_failed', 'expected { meetingId, uri }', parsed.error.issues.map((i) => i.message));
    return gateway.dial(parsed.data.meetingId, parsed.data.uri);
  });
}
