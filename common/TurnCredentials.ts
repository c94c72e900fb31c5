import { createHmac } from 'node:crypto';
import type { IceServer } from '../protocol/src/index.ts';
import type { Config } from './config.ts';

export interface TurnOptions {
  /** coturn's `static-auth-secret`; without it no TURN server is offered. */
  secret?: string;
  /** turn:, turns: and stun: URIs, as clients should use them. */
  urls?: string[];
  ttlSeconds: number;
}

/**
 * Time-limited TURN credentials by the TURN REST API scheme that coturn's `use-auth-secret`
 * checks: username `expiry:participantId` (expiry in Unix seconds), password the base64
 * HMAC-SHA1 of the username under the shared secret. coturn needs no call to us and no
 * database, and a leaked credential is worthless after the TTL.
 */
export class TurnCredentials {
  readonly #options: TurnOptions;
  readonly #now: () => number;

  constructor(options: TurnOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  /** The api signs a credential into each join answer; push signs a fresh one into every later join and ICE restart. */
  static fromConfig(config: Pick<Config, 'TURN_SECRET' | 'TURN_URLS' | 'TURN_TTL_SECONDS'>): TurnCredentials {
    return new TurnCredentials({ secret: config.TURN_SECRET, urls: config.TURN_URLS, ttlSeconds: config.TURN_TTL_SECONDS });
  }

  /** The ICE servers for one participant's join answer: STUN as is, TURN with its credential. */
  iceServers(participantId: string): IceServer[] {
    const urls = this.#options.urls ?? [];
    const stun = urls.filter((url) => url.startsWith('stun'));
    const turn = urls.filter((url) => url.startsWith('turn'));
    const servers: IceServer[] = stun.length ? [{ urls: stun }] : [];
    if (turn.length && this.#options.secret) servers.push({ urls: turn, ...this.credential(participantId) });
    return servers;
  }

  credential(participantId: string): { username: string; credential: string } {
    if (!this.#options.secret) throw new Error('TURN_SECRET is not configured');
    const expiry = Math.floor(this.#now() / 1000) + this.#options.ttlSeconds;
    const username = `${expiry}:${participantId}`;
    return { username, credential: turnPassword(this.#options.secret, username) };
  }
}

/** The password coturn expects for a TURN REST username under the shared secret. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}
