import type { ExtendedError } from 'socket.io';
import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.ts';
import type { TokenClaims } from '../meeting/tokens.ts';
import { PROTOCOL_VERSION } from '../protocol/src/version.ts';
import { authenticate } from './authenticate.ts';
import type { ClientSocket } from './SocketSession.ts';

const claims = { sub: 'p1', mid: 'm1' } as TokenClaims;
const guard = {
  async verify(token: string) {
    if (token !== 'good') throw new AppError('invalid_token', 'bad token');
    return claims;
  },
};

/** Runs the middleware on a handshake and says what it decided. */
async function handshake(auth: Record<string, unknown>): Promise<{ error?: ExtendedError; socket: Pick<ClientSocket, 'handshake' | 'data'> }> {
  const socket = { handshake: { auth }, data: undefined } as unknown as Pick<ClientSocket, 'handshake' | 'data'>;
  const error = await new Promise<ExtendedError | undefined>((resolve) => {
    authenticate(guard)(socket, resolve).catch(resolve);
  });
  return { error, socket };
}

describe('authenticate: protocol versions', () => {
  it('accepts a client of the current version', async () => {
    const { error, socket } = await handshake({ token: 'good', meetingId: 'm1', protocol: PROTOCOL_VERSION });
    expect(error).toBeUndefined();
    expect(socket.data.claims).toBe(claims);
  });

  it('accepts the previous version, and a client that sends none (it predates versions)', async () => {
    expect((await handshake({ token: 'good', protocol: PROTOCOL_VERSION - 1 })).error).toBeUndefined();
    expect((await handshake({ token: 'good', meetingId: 'm1' })).error).toBeUndefined();
  });

  it.each([PROTOCOL_VERSION - 2, PROTOCOL_VERSION + 1, '2', 2.5])('refuses version %j with unsupported_protocol and the versions it speaks', async (protocol) => {
    const { error } = await handshake({ token: 'good', protocol });
    expect(error?.data).toMatchObject({ code: 'unsupported_protocol', details: { supported: [PROTOCOL_VERSION - 1, PROTOCOL_VERSION] } });
  });

  it('checks the version before the token', async () => {
    const { error } = await handshake({ token: 'forged', protocol: PROTOCOL_VERSION + 1 });
    expect(error?.data).toMatchObject({ code: 'unsupported_protocol' });
  });

  it('still refuses a bad token of a supported version', async () => {
    const { error } = await handshake({ token: 'forged', protocol: PROTOCOL_VERSION });
    expect(error?.data).toEqual({ code: 'invalid_token', message: 'bad token' });
  });
});
