import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AppError } from '../common/errors.ts';
import { type CheckedUri, checkUri, dialUriProblem } from './sipValidate.ts';

export interface DialTarget {
  uri: CheckedUri;
  /** The address the INVITE goes to: the URI's host, resolved once here. */
  address: string;
  port: number;
  protocol: 'UDP' | 'TCP';
}

/**
 * Where and how often a meeting may call out. Destinations come from an allowlist of host names
 * (`carrier.example`, `*.carrier.example`), addresses and CIDR blocks; a name is resolved once
 * and the INVITE goes to that address. Each meeting may dial `ratePerMinute` times a minute.
 */
export class DialPolicy {
  readonly #names = new Set<string>();
  readonly #suffixes: string[] = [];
  readonly #addresses = new net.BlockList();
  readonly #limiter: RateLimiterMemory;

  constructor(allowlist: string, ratePerMinute: number) {
    for (const raw of allowlist.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
      const [address, bits] = raw.split('/');
      if (address && net.isIP(address)) {
        const family = net.isIPv4(address) ? 'ipv4' : 'ipv6';
        if (bits === undefined) this.#addresses.addAddress(address, family);
        else this.#addresses.addSubnet(address, Number(bits), family);
      } else if (raw.startsWith('*.')) this.#suffixes.push(raw.slice(1));
      else this.#names.add(raw);
    }
    this.#limiter = new RateLimiterMemory({ points: ratePerMinute, duration: 60 });
  }

  /** Checks the URI, the meeting's rate and the destination; throws an AppError when refused. */
  async check(meetingId: string, uri: string): Promise<DialTarget> {
    const problem = dialUriProblem(uri);
    const checked = checkUri(uri);
    if (problem || !checked) throw new AppError('bad_request', `the dial-out URI ${problem ?? 'is not valid'}`);
    try {
      await this.#limiter.consume(meetingId);
    } catch {
      throw new AppError('rate_limited', 'this meeting is dialling out too often; try again in a minute');
    }
    const host = checked.host.replace(/^\[|\]$/g, '').toLowerCase();
    if (net.isIPv6(host)) throw new AppError('bad_request', 'the gateway dials IPv4 destinations only');
    const named = !net.isIP(host) && (this.#names.has(host) || this.#suffixes.some((s) => host.endsWith(s)));
    if (!named && !(net.isIP(host) && this.#allowedAddress(host))) throw new AppError('forbidden', `dial-out to ${host} is not allowed`);
    let address = host;
    if (!net.isIP(host)) {
      try {
        address = (await lookup(host, { family: 4 })).address;
      } catch {
        throw new AppError('bad_request', `the host ${host} does not resolve`);
      }
    }
    const protocol = checked.params.transport?.toLowerCase() === 'tcp' ? 'TCP' : 'UDP';
    return { uri: checked, address, port: checked.port ?? 5060, protocol };
  }

  #allowedAddress(address: string): boolean {
    return this.#addresses.check(address, net.isIPv4(address) ? 'ipv4' : 'ipv6');
  }
}
