import { NotFoundError, UnsupportedError, WorkerClosedError } from 'mediasoup/errors';
import { AppError } from '../common/errors.ts';

/**
 * mediasoup's errors mapped to AppError codes by their class, in this one place; no message is
 * read. What mediasoup throws (3.27):
 *
 * - `NotFoundError`: the worker no longer has the entity (closed while the request was in
 *   flight). `WorkerClosedError`: the worker, and with it every object on it, is gone. For the
 *   caller both mean the object is gone: `not_found`, as for an id that never existed.
 * - `TypeError`: mediasoup checks parameters in Node (`ortc.ts`) and the worker answers
 *   `MS_THROW_TYPE_ERROR` for a malformed field; the channel rejects both as a plain
 *   `TypeError` (no subclass of its own). Where the parameters came from the client (rtp or
 *   DTLS parameters, a plain transport's peer) that is the client's fault: `bad_request`.
 *   Elsewhere a `TypeError` is our bug and stays as it is (a 500, logged).
 * - `UnsupportedError`: the router cannot take what the client offers (a codec it lacks), so
 *   also `bad_request` when it answers client parameters.
 * - A plain `Error`: the worker's `MS_THROW_ERROR`, used both for state conflicts ("connect()
 *   already called") and for its own failures (SRTP setup, libuv). No class tells those apart,
 *   so it is left unmapped: a 500 that is logged, rather than blaming the client for ours.
 */
export function toAppError(error: unknown, blame: 'client' | 'server'): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof NotFoundError || error instanceof WorkerClosedError) return new AppError('not_found', error.message);
  if (blame === 'client' && (error instanceof TypeError || error instanceof UnsupportedError)) return new AppError('bad_request', error.message);
  return error;
}

/** A mediasoup call whose parameters came from the client: bad ones are `bad_request`. */
export async function withClientParams<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw toAppError(error, 'client');
  }
}

/**
 * A mediasoup call on an object that can close while the request is in flight (its producer
 * left, say): that is `not_found` for the client, not a server failure, whatever the error.
 */
export async function onLiveObject<T>(object: { closed: boolean; id: string }, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (object.closed) throw new AppError('not_found', `${object.id} closed meanwhile`);
    throw toAppError(error, 'server');
  }
}
