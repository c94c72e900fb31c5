import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';

/** The header tiers present to each other's /internal routes. */
export const INTERNAL_KEY_HEADER = 'x-internal-key';

/** The key tiers present to each other; derived from the shared JWT secret. */
export function internalKeyFrom(secret: string): string {
  return createHash('sha256').update(`convene-internal:${secret}`).digest('hex');
}

/** Refuses a call to an /internal route that does not carry the key. */
export function requireInternalKey(request: FastifyRequest, key: string): void {
  const given = request.headers[INTERNAL_KEY_HEADER];
  if (typeof given !== 'string' || given.length !== key.length || !timingSafeEqual(Buffer.from(given), Buffer.from(key))) {
    throw new AppError('unauthorized', 'internal calls need the internal key');
  }
}
