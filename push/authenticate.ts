import type { ExtendedError } from 'socket.io';
import { AppError } from '../common/errors.ts';
import type { AccessCheck } from '../meeting/contract.ts';
import { LEGACY_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '../protocol/src/version.ts';
import type { ClientSocket } from './SocketSession.ts';

/**
 * The handshake must carry `auth: { token, meetingId, protocol }`. A refusal reaches the client
 * as a `connect_error` whose `data` is `{ code, message, details? }`. `protocol` is the client's
 * protocol version: this server speaks the current one and the one before (a client that sends
 * none predates versions and counts as {@link LEGACY_PROTOCOL_VERSION}); any other gets
 * `unsupported_protocol` with `details.supported`, checked before the token.
 */
export function authenticate(access: Pick<AccessCheck, 'verify'>) {
  return async (socket: Pick<ClientSocket, 'handshake' | 'data'>, next: (err?: ExtendedError) => void) => {
    const auth = socket.handshake.auth as { token?: unknown; meetingId?: unknown; protocol?: unknown };
    try {
      const protocol = auth.protocol ?? LEGACY_PROTOCOL_VERSION;
      if (typeof protocol !== 'number' || !SUPPORTED_PROTOCOL_VERSIONS.includes(protocol)) {
        throw new AppError('unsupported_protocol', `protocol version ${String(protocol)} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(' and ')}`, {
          supported: SUPPORTED_PROTOCOL_VERSIONS,
        });
      }
      if (typeof auth.token !== 'string' || auth.token.length === 0) throw new AppError('unauthorized', 'connect with auth: { token, meetingId, protocol }');
      if (auth.meetingId !== undefined && typeof auth.meetingId !== 'string') throw new AppError('bad_request', 'meetingId must be a string');
      const claims = await access.verify(auth.token, auth.meetingId);
      socket.data = { claims, joined: false, leaving: false };
      next();
    } catch (error) {
      const appError = error instanceof AppError ? error : new AppError('internal', 'authentication failed');
      const err = new Error(appError.message) as ExtendedError;
      err.data = { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) };
      next(err);
    }
  };
}
