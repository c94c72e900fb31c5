import type { ExtendedError } from 'socket.io';
import { AppError } from '../common/errors.ts';
import type { AccessCheck } from '../meeting/contract.ts';
import type { ClientSocket } from './SocketSession.ts';

/**
 * The handshake must carry `auth: { token, meetingId }`. A refusal reaches the client as a
 * `connect_error` whose `data` is `{ code, message }`.
 */
export function authenticate(access: AccessCheck) {
  return async (socket: ClientSocket, next: (err?: ExtendedError) => void) => {
    const auth = socket.handshake.auth as { token?: unknown; meetingId?: unknown };
    try {
      if (typeof auth.token !== 'string' || auth.token.length === 0) throw new AppError('unauthorized', 'connect with auth: { token, meetingId }');
      if (auth.meetingId !== undefined && typeof auth.meetingId !== 'string') throw new AppError('bad_request', 'meetingId must be a string');
      const claims = await access.verify(auth.token, auth.meetingId);
      socket.data = { claims, joined: false, leaving: false };
      next();
    } catch (error) {
      const appError = error instanceof AppError ? error : new AppError('internal', 'authentication failed');
      const err = new Error(appError.message) as ExtendedError;
      err.data = { code: appError.code, message: appError.message };
      next(err);
    }
  };
}
