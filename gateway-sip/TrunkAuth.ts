import type { SipMessage } from 'sip';
import { DigestAuth } from './DigestAuth.ts';

export type TrunkVerdict = { ok: true; trunk: string } | { ok: false; status: 401 | 403; challenge?: SipMessage['headers'] };

/**
 * Who may send requests: trunks on the IP allowlist as they are, others with digest credentials.
 * A request with no credentials (or an expired nonce) gets a challenge; wrong credentials, 403.
 * Applied to every request a trunk sends, in a dialog or not; ACK and CANCEL, which cannot be
 * challenged (RFC 3261 §22.1), are matched to their dialog or transaction instead.
 */
export class TrunkAuth {
  readonly #allowed: Set<string>;
  readonly #digest: DigestAuth;

  constructor(allowedIps: string, digestUsers: string, realm: string) {
    this.#allowed = new Set(allowedIps.split(',').map((s) => s.trim()).filter(Boolean));
    const users = new Map(
      digestUsers
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.includes(':'))
        .map((pair) => {
          const i = pair.indexOf(':');
          return [pair.slice(0, i), pair.slice(i + 1)] as [string, string];
        }),
    );
    this.#digest = new DigestAuth(users, realm);
  }

  check(request: SipMessage, sourceIp: string): TrunkVerdict {
    if (this.#allowed.has(sourceIp)) return { ok: true, trunk: `ip:${sourceIp}` };
    if (!this.#digest.enabled) return { ok: false, status: 403 };
    if (!request.headers.authorization) return { ok: false, status: 401, challenge: this.#digest.challenge() };
    const verdict = this.#digest.verify(request);
    if (verdict.ok) return { ok: true, trunk: `user:${verdict.user}` };
    if (verdict.stale) return { ok: false, status: 401, challenge: this.#digest.challenge(true) };
    return { ok: false, status: 403 };
  }
}
