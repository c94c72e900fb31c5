import { createHmac, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../common/errors.ts';
import { claimsSchema, type TokenClaims } from './contract.ts';

export type { TokenClaims } from './contract.ts';

/** A signed token, with what revoking it needs. */
export interface SignedToken {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  jti: string;
}

/**
 * Join tokens are short-lived and let a client take a seat once; session tokens are issued on
 * joining and let the same client reclaim its seat after a dropped connection.
 */
export class TokenService {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  /** Every token gets a fresh `jti` and expiry, whatever `claims` carries from another token. */
  async sign(claims: TokenClaims, ttlSeconds: number): Promise<SignedToken> {
    const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
    const jti = randomUUID();
    const token = await new SignJWT({
      mid: claims.mid,
      name: claims.name,
      role: claims.role,
      grants: claims.grants,
      typ: claims.typ,
      ...(claims.org === undefined ? {} : { org: claims.org }),
      // JWT's iat has whole seconds: too coarse for a join that takes a fraction of one.
      ...(claims.typ === 'join' ? { ims: Date.now() } : {}),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.sub)
      .setJti(jti)
      .setIssuedAt()
      .setIssuer('convene')
      .setExpirationTime(expiresAt)
      .sign(this.#key);
    return { token, expiresAt: expiresAt * 1000, jti };
  }

  /** A stable, keyed stand-in for a client address: bans can match it without storing addresses. */
  fingerprint(address: string): string {
    return createHmac('sha256', this.#key).update(`origin:${address}`).digest('base64url').slice(0, 22);
  }

  /** Throws `token_expired`, `invalid_token` or, when a meeting is given, `wrong_meeting`. */
  async verify(token: string, meetingId?: string): Promise<TokenClaims> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.#key, { issuer: 'convene', algorithms: ['HS256'] }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AppError('token_expired', 'the token has expired; ask for a new one');
      throw new AppError('invalid_token', 'the token is not valid');
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new AppError('invalid_token', 'the token is not a Convene token');
    if (meetingId !== undefined && claims.data.mid !== meetingId) {
      throw new AppError('wrong_meeting', 'the token belongs to another meeting');
    }
    return claims.data;
  }
}
