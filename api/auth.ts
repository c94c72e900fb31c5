import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/errors.ts';
import type { AccessCheck, TokenClaims } from '../meeting/contract.ts';
import { safeEqual } from './safeEqual.ts';

export type Caller = { kind: 'server' } | { kind: 'participant'; claims: TokenClaims };


/**
 * Two kinds of caller: servers with the API key (`X-Api-Key`), and participants with a join or
 * session token (`Authorization: Bearer`), which is only good for its own meeting and only
 * while its participant has not been removed from it.
 */
export class ApiAuth {
  private readonly apiKey: string;
  private readonly access: AccessCheck;
  constructor(
    apiKey: string,
    access: AccessCheck,
  ) {
    this.apiKey = apiKey;
    this.access = access;
  }

  hasApiKey(request: FastifyRequest): boolean {
    const key = request.headers['x-api-key'];
    return typeof key === 'string' && safeEqual(key, this.apiKey);
  }

  requireApiKey(request: FastifyRequest): void {
    if (!this.hasApiKey(request)) throw new AppError('unauthorized', 'this call needs the X-Api-Key header');
  }

  async caller(request: FastifyRequest, meetingId: string): Promise<Caller> {
    if (this.hasApiKey(request)) return { kind: 'server' };
    const header = request.headers.authorization;
    // Images in a page cannot send headers, so downloads also take the token as ?token=.
    const query = (request.query as { token?: unknown } | undefined)?.token;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : typeof query === 'string' ? query : undefined;
    if (!token) throw new AppError('unauthorized', 'send X-Api-Key or Authorization: Bearer <token>');
    return { kind: 'participant', claims: await this.access.verify(token, meetingId) };
  }

  /** The server, or a participant of this meeting with the moderate grant. */
  async requireHost(request: FastifyRequest, meetingId: string): Promise<string | null> {
    const caller = await this.caller(request, meetingId);
    if (caller.kind === 'server') return null;
    if (!caller.claims.grants.moderate) throw new AppError('forbidden', 'only hosts may do this');
    return caller.claims.sub;
  }
}
