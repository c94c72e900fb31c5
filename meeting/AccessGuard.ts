import { AppError } from '../common/errors.ts';
import type { AccessCheck } from './contract.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { TokenClaims, TokenService } from './tokens.ts';

/**
 * A token is good until it expires; removal from a meeting must end that sooner. Every edge
 * that accepts a token (HTTP, socket.io handshake, taking a seat) asks here, so a removed
 * participant's join and session tokens stop working everywhere at once, in every process.
 */
export class AccessGuard implements AccessCheck {
  private readonly repo: MeetingRepository;
  private readonly tokens: TokenService;
  constructor(repo: MeetingRepository, tokens: TokenService) {
    this.repo = repo;
    this.tokens = tokens;
  }

  /** Verifies the signature and expiry, then refuses revoked tokens and removed participants. */
  async verify(token: string, meetingId?: string): Promise<TokenClaims> {
    const claims = await this.tokens.verify(token, meetingId);
    await checkAccess(this.repo, claims);
    return claims;
  }
}

/** Throws `token_revoked` if the token was revoked or its participant removed from the meeting. */
export async function checkAccess(repo: MeetingRepository, claims: TokenClaims): Promise<void> {
  const [revoked, removed] = await Promise.all([
    claims.jti === undefined ? false : repo.isTokenRevoked(claims.jti),
    repo.wasRemoved(claims.mid, claims.sub),
  ]);
  if (revoked || removed) throw new AppError('token_revoked', 'you were removed from this meeting; ask the host for a new invitation');
}
