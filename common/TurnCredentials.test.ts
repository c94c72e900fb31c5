import { describe, expect, it } from 'vitest';
import { TurnCredentials, turnPassword } from './TurnCredentials.ts';

describe('TurnCredentials', () => {
  const now = () => 1_800_000_000_000;

  it('derives a TURN REST credential: expiry:participantId and its HMAC-SHA1 under the secret', () => {
    const turn = new TurnCredentials({ secret: 'a-shared-secret-of-length', urls: ['turns:turn.example.com:443?transport=tcp'], ttlSeconds: 600 }, now);
    const [server] = turn.iceServers('p_1');
    expect(server).toEqual({
      urls: ['turns:turn.example.com:443?transport=tcp'],
      username: '1800000600:p_1',
      // echo -n 1800000600:p_1 | openssl dgst -sha1 -hmac a-shared-secret-of-length -binary | base64
      credential: turnPassword('a-shared-secret-of-length', '1800000600:p_1'),
    });
    expect(server?.credential).toBe('CMHlJLnZdG2ljhviDMIbJLal4zI=');
  });

  it('hands STUN URIs without a credential, and offers nothing without URLs', () => {
    const turn = new TurnCredentials({ secret: 'a-shared-secret-of-length', urls: ['stun:stun.example.com:3478', 'turn:turn.example.com:3478'], ttlSeconds: 60 }, now);
    expect(turn.iceServers('p')).toEqual([
      { urls: ['stun:stun.example.com:3478'] },
      { urls: ['turn:turn.example.com:3478'], username: '1800000060:p', credential: expect.any(String) },
    ]);
    expect(new TurnCredentials({ ttlSeconds: 60 }).iceServers('p')).toEqual([]);
  });
});
