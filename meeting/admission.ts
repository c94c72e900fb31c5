import { withLock } from '../common/state/lock.ts';
import type { StateStore } from '../common/state/StateStore.ts';

/**
 * The meeting's admission lock. Every change to who holds a seat runs under it: join and its
 * rollback, leave, removal, a disconnect, a grace period running out, a lost node, and the
 * mark that ends the meeting. So none of them interleave, a seat is announced gone exactly
 * once, and once the end is marked no seat can be taken. Only store operations run inside it
 * (media calls and events come after), so it is held for milliseconds. A lock not had within
 * `waitMs` is a 503 `busy` the client may retry.
 */
export function withAdmission<T>(store: StateStore, meetingId: string, fn: () => Promise<T>, waitMs: number): Promise<T> {
  return withLock(store, `admit:${meetingId}`, fn, { waitMs });
}
