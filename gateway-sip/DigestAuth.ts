import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SipMessage } from 'sip';

export type DigestVerdict = { ok: true; user: string } | { ok: false; stale: boolean };

type Algorithm = 'SHA-256' | 'MD5';
const HASH: Record<Algorithm, string> = { 'SHA-256': 'sha256', MD5: 'md5' };

interface NonceState {
  issuedAt: number;
  /** The highest nonce count accepted so far (qop=auth); each count is good once. */
  nc: number;
  /** A nonce answered without qop is good once. */
  used: boolean;
}

export interface DigestOptions {
  /** How long a nonce may be used. */
  nonceTtlMs?: number;
  /** Nonces kept at most; the oldest go first, so that challenges cannot fill memory. */
  maxNonces?: number;
}

/**
 * Digest authentication of SIP requests (RFC 3261 §22 with RFC 7616 / RFC 8760): challenges
 * offer SHA-256 first and MD5 for older trunks; a nonce is ours, unexpired, and each nonce count
 * is accepted once and only upwards, so captured credentials cannot be replayed; the digest must
 * be for the request line's URI and method, not whatever the header claims.
 */
export class DigestAuth {
  readonly #nonces = new Map<string, NonceState>();
  readonly #ttlMs: number;
  readonly #max: number;
  private readonly users: Map<string, string>;
  private readonly realm: string;

  constructor(users: Map<string, string>, realm: string, options: DigestOptions = {}) {
    this.users = users;
    this.realm = realm;
    this.#ttlMs = options.nonceTtlMs ?? 5 * 60_000;
    this.#max = options.maxNonces ?? 10_000;
  }

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** WWW-Authenticate headers for a 401: one fresh nonce, offered with both algorithms. */
  challenge(stale = false): Record<string, unknown> {
    const nonce = randomBytes(18).toString('base64url');
    this.#nonces.set(nonce, { issuedAt: Date.now(), nc: 0, used: false });
    if (this.#nonces.size > this.#max) {
      const oldest = this.#nonces.keys().next().value;
      if (oldest !== undefined) this.#nonces.delete(oldest);
    }
    const offer = (algorithm: Algorithm) => ({
      scheme: 'Digest',
      realm: `"${this.realm}"`,
      nonce: `"${nonce}"`,
      algorithm,
      qop: '"auth"',
      ...(stale ? { stale: 'true' } : {}),
    });
    return { 'www-authenticate': [offer('SHA-256'), offer('MD5')] };
  }

  verify(request: SipMessage): DigestVerdict {
    const fail = { ok: false, stale: false } as const;
    const headers = request.headers.authorization;
    if (!Array.isArray(headers)) return fail;
    const header = (headers as Array<Record<string, unknown>>).find(
      (h) => typeof h?.scheme === 'string' && h.scheme.toLowerCase() === 'digest' && unquote(h.realm) === this.realm,
    );
    if (!header) return fail;
    const user = unquote(header.username);
    const nonce = unquote(header.nonce);
    const uri = unquote(header.uri);
    const response = unquote(header.response)?.toLowerCase();
    const algorithmName = (unquote(header.algorithm) ?? 'MD5').toUpperCase();
    const qop = unquote(header.qop);
    const password = user === undefined ? undefined : this.users.get(user);
    if (!user || password === undefined || !nonce || !uri || !response || !request.method) return fail;
    if (algorithmName !== 'MD5' && algorithmName !== 'SHA-256') return fail;
    const algorithm = algorithmName as Algorithm;
    // Signed for this request: the same method and Request-URI as the request line.
    if (uri !== request.uri) return fail;
    const state = this.#nonces.get(nonce);
    if (!state) return fail;

    let nc = 0;
    let expected: string;
    const h = (...parts: string[]) => createHash(HASH[algorithm]).update(parts.join(':')).digest('hex');
    const ha1 = h(user, this.realm, password);
    const ha2 = h(request.method, uri);
    if (qop === undefined) {
      if (state.used) return fail;
      expected = h(ha1, nonce, ha2);
    } else if (qop === 'auth') {
      const ncText = unquote(header.nc) ?? '';
      const cnonce = unquote(header.cnonce);
      if (!/^[0-9a-fA-F]{8}$/.test(ncText) || !cnonce) return fail;
      nc = Number.parseInt(ncText, 16);
      if (nc <= state.nc) return fail;
      expected = h(ha1, nonce, ncText, cnonce, qop, ha2);
    } else {
      return fail;
    }
    if (!sameHex(expected, response)) return fail;
    if (Date.now() - state.issuedAt > this.#ttlMs) {
      // Right password, old nonce: the client retries with a fresh one without asking its user.
      this.#nonces.delete(nonce);
      return { ok: false, stale: true };
    }
    state.nc = nc;
    state.used = true;
    return { ok: true, user };
  }
}

function unquote(value: unknown): string | undefined {
  return typeof value === 'string' ? value.replace(/^"|"$/g, '') : undefined;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
