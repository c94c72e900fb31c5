import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { establish, type Harness, offerSdp, RawPhone, sipRequest, startHarness, token } from './testHarness.ts';

let harness: Harness | undefined;
const phones: RawPhone[] = [];
afterEach(async () => {
  for (const p of phones.splice(0)) p.close();
  await harness?.close();
  harness = undefined;
});

async function phone(address = '127.0.0.1'): Promise<RawPhone> {
  const p = await new RawPhone(harness!.port, address).open();
  phones.push(p);
  return p;
}

const status = (answer: string | null) => Number(/^SIP\/2\.0 (\d{3})/.exec(answer ?? '')?.[1] ?? 0);

function digestAuthorization(
  challenge: string,
  options: { method: string; uri: string; user?: string; password?: string; algorithm?: 'MD5' | 'SHA-256'; nc?: number; cnonce?: string },
): string {
  const algorithm = options.algorithm ?? 'MD5';
  const line = challenge.split('\r\n').find((l) => /^WWW-Authenticate:/i.test(l) && (algorithm === 'MD5' ? !/SHA-256/i.test(l) : /SHA-256/i.test(l)))!;
  const nonce = /nonce="([^"]+)"/.exec(line)![1]!;
  const h = (s: string) => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
  const nc = (options.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = options.cnonce ?? token();
  const ha1 = h(`${options.user ?? 'trunk'}:convene:${options.password ?? 'trunk-secret'}`);
  const ha2 = h(`${options.method}:${options.uri}`);
  const response = h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Authorization: Digest username="${options.user ?? 'trunk'}", realm="convene", nonce="${nonce}", uri="${options.uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

describe('SIP input is validated before use (findings 2, 3)', () => {
  it('answers 400 to an INVITE whose Record-Route is not a URI, and keeps serving', async () => {
    harness = await startHarness();
    const p = await phone();
    const answer = await p.request(sipRequest(p, 'INVITE', { callId: token(), fromTag: token(), body: offerSdp(40000), extra: ['Record-Route: <foo>'] }));
    expect(status(answer)).toBe(400);
    expect(harness.gateway.calls.size).toBe(0);
    await establish(p);
    expect(harness.gateway.calls.size).toBe(1);
  });

  it('refuses SDP with a port out of range, in an INVITE and in a re-INVITE', async () => {
    harness = await startHarness();
    const p = await phone();
    const answer = await p.request(sipRequest(p, 'INVITE', { callId: token(), fromTag: token(), body: offerSdp(70000) }));
    expect(status(answer)).toBeGreaterThanOrEqual(400);
    expect(status(answer)).toBeLessThan(500);
    expect(harness.gateway.calls.size).toBe(0);

    const call = await establish(p);
    const reinvite = await p.request(sipRequest(p, 'INVITE', { ...call, cseq: 2, body: offerSdp(70000) }));
    expect(status(reinvite)).toBe(488);
  });
});

describe('in-dialog requests belong to the dialog (finding 5)', () => {
  it('answers 481 to a stranger who knows only the Call-ID, or the tags from another address', async () => {
    harness = await startHarness({ allowedIps: '127.0.0.1,127.0.0.2' });
    const caller = await phone();
    const call = await establish(caller);
    const stranger = await phone('127.0.0.2');
    expect(status(await stranger.request(sipRequest(stranger, 'BYE', { callId: call.callId, fromTag: token(), cseq: 5 })))).toBe(481);
    expect(status(await stranger.request(sipRequest(stranger, 'INVITE', { callId: call.callId, fromTag: token(), toTag: token(), cseq: 5, body: offerSdp(41000) })))).toBe(481);
    // Without a To tag it is a new call with a Call-ID in use: refused, and the call untouched.
    expect(status(await stranger.request(sipRequest(stranger, 'INVITE', { callId: call.callId, fromTag: token(), cseq: 5, body: offerSdp(41000) })))).toBe(482);
    expect(harness.gateway.calls.get(call.callId)?.rtp.remote).toEqual({ address: '127.0.0.1', port: 40000 });
    expect(status(await stranger.request(sipRequest(stranger, 'INFO', { callId: call.callId, fromTag: token(), cseq: 5 })))).toBe(481);
    // The tags leaked: still not the caller's address.
    expect(status(await stranger.request(sipRequest(stranger, 'BYE', { ...call, cseq: 6 })))).toBe(481);
    expect(harness.gateway.calls.has(call.callId)).toBe(true);
    // The caller itself ends its call.
    expect(status(await caller.request(sipRequest(caller, 'BYE', { ...call, cseq: 7 })))).toBe(200);
    expect(harness.gateway.calls.has(call.callId)).toBe(false);
  });

  it('applies the trunk policy to in-dialog requests: a digest trunk authenticates each one', async () => {
    harness = await startHarness({ allowedIps: '127.0.0.1', digestUsers: 'trunk:trunk-secret' });
    const p = await phone('127.0.0.2');
    const uri = 'sip:123456789@127.0.0.1';
    const callId = token();
    const fromTag = token();
    const challenge = await p.request(sipRequest(p, 'INVITE', { uri, callId, fromTag, body: offerSdp(40000) }));
    expect(status(challenge)).toBe(401);
    const ok = await p.request(sipRequest(p, 'INVITE', { uri, callId, fromTag, cseq: 2, body: offerSdp(40000), extra: [digestAuthorization(challenge!, { method: 'INVITE', uri })] }));
    expect(status(ok)).toBe(200);
    const toTag = /^To:.*;tag=([^;\s]+)/im.exec(ok!)![1]!;
    p.send(sipRequest(p, 'ACK', { uri, callId, fromTag, toTag, cseq: 2 }));
    const bye = await p.request(sipRequest(p, 'BYE', { uri, callId, fromTag, toTag, cseq: 3 }));
    expect(status(bye)).toBe(401);
    expect(harness.gateway.calls.has(callId)).toBe(true);
    const authed = await p.request(sipRequest(p, 'BYE', { uri, callId, fromTag, toTag, cseq: 4, extra: [digestAuthorization(bye!, { method: 'BYE', uri })] }));
    expect(status(authed)).toBe(200);
  });
});

describe('digest authentication (finding 12)', () => {
  const uri = 'sip:123456789@127.0.0.1';
  it('offers SHA-256 and MD5, and refuses replayed, stale-count and wrong-URI credentials', async () => {
    harness = await startHarness({ allowedIps: '127.0.0.1', digestUsers: 'trunk:trunk-secret' });
    const p = await phone('127.0.0.2');
    const challenge = await p.request(sipRequest(p, 'INVITE', { uri, callId: token(), fromTag: token(), body: offerSdp(40000) }));
    expect(challenge).toMatch(/WWW-Authenticate: Digest [^\r]*algorithm=SHA-256/);
    expect(challenge).toMatch(/WWW-Authenticate: Digest [^\r]*algorithm=MD5/);

    const auth = digestAuthorization(challenge!, { method: 'INVITE', uri, algorithm: 'SHA-256', nc: 1 });
    expect(status(await p.request(sipRequest(p, 'INVITE', { uri, callId: token(), fromTag: token(), body: offerSdp(40000), extra: [auth] })))).toBe(200);
    // The very same credentials again, in a new call: a replay.
    expect(status(await p.request(sipRequest(p, 'INVITE', { uri, callId: token(), fromTag: token(), body: offerSdp(40001), extra: [auth] })))).toBeGreaterThanOrEqual(401);
    expect(harness.gateway.calls.size).toBe(1);
    // The nonce with a higher count is fine; a count that went back is not.
    const nc2 = digestAuthorization(challenge!, { method: 'INVITE', uri, algorithm: 'MD5', nc: 2 });
    expect(status(await p.request(sipRequest(p, 'INVITE', { uri, callId: token(), fromTag: token(), body: offerSdp(40002), extra: [nc2] })))).toBe(200);
    const back = digestAuthorization(challenge!, { method: 'INVITE', uri, algorithm: 'MD5', nc: 2, cnonce: 'other' });
    expect(status(await p.request(sipRequest(p, 'INVITE', { uri, callId: token(), fromTag: token(), body: offerSdp(40003), extra: [back] })))).toBeGreaterThanOrEqual(401);
    // Signed for another request URI than the one in the request line.
    const otherUri = digestAuthorization(challenge!, { method: 'INVITE', uri: 'sip:987654321@127.0.0.1', nc: 3 });
    expect(status(await p.request(sipRequest(p, 'INVITE', { uri, callId: token(), fromTag: token(), body: offerSdp(40004), extra: [otherUri] })))).toBe(403);
    expect(harness.gateway.calls.size).toBe(2);
  });
});

describe('PIN guessing and call limits (low findings)', () => {
  it('gives one answer for unknown and ended meetings, and stops answering hits after too many misses', async () => {
    harness = await startHarness({ gateway: { pinGuesses: 3 } });
    harness.ended.add('meetingB');
    const p = await phone();
    const invite = (pin: string) => p.request(sipRequest(p, 'INVITE', { uri: `sip:${pin}@127.0.0.1`, callId: token(), fromTag: token(), body: offerSdp(40000) }));
    const unknown = await invite('111111111');
    const ended = await invite('987654321');
    expect(status(unknown)).toBe(404);
    expect(status(ended)).toBe(404);
    expect(/^SIP\/2\.0 \d+ [^\r]*/.exec(ended!)?.[0]).toBe(/^SIP\/2\.0 \d+ [^\r]*/.exec(unknown!)?.[0]);
    expect(status(await invite('222222222'))).toBe(404);
    // Three misses: the right PIN now gets the same answer as a wrong one.
    expect(status(await invite('123456789'))).toBe(404);
    expect(harness.gateway.calls.size).toBe(0);
  });

  it('limits calls per trunk', async () => {
    harness = await startHarness({ allowedIps: '127.0.0.1,127.0.0.2', gateway: { maxCallsPerTrunk: 2 } });
    const a = await phone();
    await establish(a);
    await establish(a, { pin: '987654321' });
    const third = await a.request(sipRequest(a, 'INVITE', { callId: token(), fromTag: token(), body: offerSdp(40000) }));
    expect(status(third)).toBe(503);
    const b = await phone('127.0.0.2');
    await establish(b);
    await establish(b);
    const full = await b.request(sipRequest(b, 'INVITE', { callId: token(), fromTag: token(), body: offerSdp(40000) }));
    expect(status(full)).toBe(503);
    expect(harness.gateway.calls.size).toBe(4);
  });

  it('while draining, answers new calls 503 (a proxy tries the next gateway) and keeps the calls in progress', async () => {
    harness = await startHarness();
    const a = await phone();
    await establish(a);
    harness.gateway.startDraining();
    const late = await a.request(sipRequest(a, 'INVITE', { callId: token(), fromTag: token(), body: offerSdp(40000) }));
    expect(status(late)).toBe(503);
    expect(late).toMatch(/draining/);
    expect(harness.gateway.calls.size).toBe(1);
  });

  it('limits calls per meeting', async () => {
    harness = await startHarness({ allowedIps: '127.0.0.1', gateway: { maxCallsPerMeeting: 1 } });
    const a = await phone();
    await establish(a);
    const second = await a.request(sipRequest(a, 'INVITE', { callId: token(), fromTag: token(), body: offerSdp(40000) }));
    expect(status(second)).toBe(486);
    await establish(a, { pin: '987654321' });
  });
});

describe('dial-out destinations (finding 1, low findings)', () => {
  it('dials a URI without a port on 5060, and refuses bad ports, unknown hosts and hosts off the allowlist', async () => {
    harness = await startHarness({ gateway: { dialAllowlist: '127.0.0.1,*.invalid', dialRate: 100 } });
    const escaped: unknown[] = [];
    const onEscape = (error: unknown) => escaped.push(error);
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    try {
      const { callId } = await harness.gateway.dial('meetingA', 'sip:+15550100@127.0.0.1');
      expect(harness.gateway.calls.get(callId)?.flow.port).toBe(5060);
      await expect(harness.gateway.dial('meetingA', 'sip:+15550100@127.0.0.1:99999')).rejects.toMatchObject({ code: 'bad_request' });
      await expect(harness.gateway.dial('meetingA', 'sip:+15550100@no-such-host.invalid')).rejects.toMatchObject({ code: 'bad_request' });
      await expect(harness.gateway.dial('meetingA', 'sip:+15550100@198.18.0.1')).rejects.toMatchObject({ code: 'forbidden' });
      // Retransmissions of the INVITE run on timers: give them time to fail if they would.
      await new Promise((r) => setTimeout(r, 1800));
      expect(escaped).toEqual([]);
    } finally {
      process.off('uncaughtException', onEscape);
      process.off('unhandledRejection', onEscape);
    }
  });

  it('limits how fast a meeting dials out', async () => {
    harness = await startHarness({ gateway: { dialAllowlist: '127.0.0.1', dialRate: 2 } });
    await harness.gateway.dial('meetingA', 'sip:+15550100@127.0.0.1:9');
    await harness.gateway.dial('meetingA', 'sip:+15550101@127.0.0.1:9');
    await expect(harness.gateway.dial('meetingA', 'sip:+15550102@127.0.0.1:9')).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

describe('transaction memory', () => {
  it('answers 503 instead of remembering more than maxTransactions requests at once', async () => {
    harness = await startHarness({ maxTransactions: 20 });
    const p = await phone();
    for (let i = 0; i < 20; i++) expect(status(await p.request(sipRequest(p, 'OPTIONS', { callId: token(), fromTag: token() })))).toBe(200);
    expect(status(await p.request(sipRequest(p, 'OPTIONS', { callId: token(), fromTag: token() })))).toBe(503);
  });
});

describe('in-dialog requests still work for the caller', () => {
  it('takes INFO digits and a re-INVITE from the caller', async () => {
    harness = await startHarness();
    const p = await phone();
    const call = await establish(p, { pin: '000000001' }).catch(() => null);
    expect(call).toBeNull();
    const ivr = await establish(p, { pin: 'conference' });
    const info = await p.request(sipRequest(p, 'INFO', { ...ivr, uri: 'sip:conference@127.0.0.1', cseq: 2, extra: ['Content-Type: application/dtmf-relay'], body: '' }));
    expect(status(info)).toBe(200);
    const re = await p.request(sipRequest(p, 'INVITE', { ...ivr, uri: 'sip:conference@127.0.0.1', cseq: 3, body: offerSdp(41000) }));
    expect(status(re)).toBe(200);
    await waitFor(() => harness!.gateway.calls.size === 1);
  });
});
