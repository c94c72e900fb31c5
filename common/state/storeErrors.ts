import { ReplyError } from 'ioredis';
import { AppError } from '../errors.ts';

/** Replies by which a reachable Redis says it cannot serve right now. */
const UNAVAILABLE_REPLIES = /^(LOADING|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|BUSY|NOREPLICAS|MISCONF)\b/;

/**
 * The one place where a failure to reach the shared store becomes an AppError: callers see
 * 503 `store_unavailable` (HTTP problem+json, socket error ack), never a 500. Redis' own
 * answers to bad commands stay as they are: those are bugs, not outages.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (!(error instanceof Error)) return error;
  if (error instanceof ReplyError && !UNAVAILABLE_REPLIES.test(error.message)) return error;
  return new AppError('store_unavailable', 'the shared state store is unreachable; retry shortly', { cause: error.message });
}

export function isStoreUnavailable(error: unknown): boolean {
  return error instanceof AppError && error.code === 'store_unavailable';
}
