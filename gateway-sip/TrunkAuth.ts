import type { SipMessage } from 'sip';
import * as digest from 'sip/digest.js';

export type TrunkVerdict = { ok: true; trunk: string } | { ok: false; status: 401 | 403; challenge?: SipMessage['headers'] };

/**
 * Who may send calls: trunks on the IP allowlist as they are, others with digest credentials
 * (RFC 2617). A request with no credentials gets a challenge; wrong credentials, 403.
 */
export class TrunkAuth {
  readonly #allowed: Set<string>;
  readonly #users: Map<string, string>;
  readonly #nonces = new Map<string, number>();

  private readonly realm: string;
  constructor(
    allowedIps: string,
    digestUsers: string,
    realm: string,
  ) {
    this.realm = realm;
    this.#allowed = new Set(allowedIps.split(',').map((s) => s.trim()).filter(Boolean));
    this.#users = new Map(
      digestUsers
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((pair) => {
          const i = pair.indexOf(':');
          return [pair.slice(0, i), pair.slice(i + 1)] as [string, string];
        }),
    );
  }

  check(request: SipMessage, sourceIp: string): TrunkVerdict {
    if (this.#allowed.has(sourceIp)) return { ok: true, trunk: `ip:${sourceIp}` };
    if (this.#users.size === 0) return { ok: false, status: 403 };
    const header = request.headers.authorization?.[0] as Record<string, string> | undefined;
    if (!header) return this.#challenge();
    const user = unquote(header.username);
    const nonce = unquote(header.nonce);
    const password = user ? this.#users.get(user) : undefined;
    if (!password || !nonce || !this.#nonces.has(nonce)) return { ok: false, status: 403 };
    const ctx: digest.DigestContext = { realm: this.realm, nonce };
    if (!digest.authenticateRequest(ctx, request, { user: user!, password })) return { ok: false, status: 403 };
    return { ok: true, trunk: `user:${user}` };
  }

  #challenge(): TrunkVerdict {
    const ctx: digest.DigestContext = { realm: this.realm, qop: 'auth' };
    const response = digest.challenge(ctx, { status: 401, headers: {} });
    const now = Date.now();
    for (const [nonce, at] of this.#nonces) if (now - at > 60_000) this.#nonces.delete(nonce);
    if (ctx.nonce) this.#nonces.set(ctx.nonce, now);
    return { ok: false, status: 401, challenge: response.headers };
  }
}

function unquote(value: string | undefined): string | undefined {
  return value?.replace(/^"|"$/g, '');
}
