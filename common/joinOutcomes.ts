import type { Counter, Registry } from 'prom-client';
import { AppError } from './errors.ts';
import { counter } from './metrics.ts';

export type JoinStage = 'token' | 'seat';

/**
 * `convene_joins_total{stage, code}`: joining has two steps in two tiers, the HTTP join that
 * issues the join token (api) and the socket join that takes the seat (push). Both count their
 * outcomes here, under one definition, so the counter is the same whichever role makes it first.
 */
export function joinOutcomes(registry: Registry): Counter<'stage' | 'code'> {
  const joins = counter(registry, {
    name: 'convene_joins_total',
    help: 'Join attempts by stage (token: the HTTP join, seat: the socket join) and outcome code: ok, or the error code answered (meeting_full, meeting_locked, wrong_password, unavailable...)',
    labelNames: ['stage', 'code'] as const,
  });
  return joins;
}

/** The code an error is answered with, as the error handler answers it. */
export function outcomeCode(error: unknown): string {
  return error instanceof AppError ? error.code : 'internal';
}
