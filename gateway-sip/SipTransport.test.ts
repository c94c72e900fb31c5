import { randomBytes } from 'node:crypto';
import * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { badRequestFor, isWellFormed } from './SipTransport.ts';

const INVITE = [
  'INVITE sip:123456789@127.0.0.1:5070 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: <sip:123456789@127.0.0.1>',
  'From: "Alice" <sip:alice@127.0.0.1>;tag=1928301774',
  'Call-ID: a84b4c76e66710@127.0.0.1',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@127.0.0.1:5062>',
  'Content-Type: application/sdp',
  'Content-Length: 4',
  '',
  'v=0\r\n',
].join('\r\n');

/** What the transport does with bytes off the wire: parse, check, or build a 400. */
function handle(text: string): 'message' | 'answered' | 'dropped' {
  let message: sip.SipMessage | undefined;
  try {
    message = sip.parse(text);
  } catch {
    message = undefined;
  }
  if (message && isWellFormed(message)) {
    sip.stringify(sip.makeResponse(message, 200, 'OK'));
    return 'message';
  }
  return badRequestFor(text, 'Bad Request') === null ? 'dropped' : 'answered';
}

function mutate(text: string, rounds: number): string {
  const bytes = Buffer.from(text, 'binary');
  let out = bytes;
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(Math.random() * out.length);
    const op = Math.floor(Math.random() * 4);
    if (op === 0) out[at] = Math.floor(Math.random() * 256);
    else if (op === 1) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(Math.random() * 20))]);
    else if (op === 2) out = Buffer.concat([out.subarray(0, at), randomBytes(1 + Math.floor(Math.random() * 8)), out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), Buffer.from(['\r\n', ':', ';', '<', '>', '"', ' ', '\r\n\r\n'][Math.floor(Math.random() * 8)]!), out.subarray(at)]);
  }
  return out.toString('binary');
}

describe('SIP input handling', () => {
  it('accepts a well-formed INVITE', () => {
    expect(handle(INVITE)).toBe('message');
  });

  it('answers 400 when the request line and dialog headers are there but a header is unusable', () => {
    const bad = INVITE.replace('CSeq: 314159 INVITE', 'CSeq: banana INVITE');
    expect(handle(bad)).toBe('answered');
    expect(badRequestFor(bad, 'Bad Request')).toMatch(/^SIP\/2\.0 400 Bad Request\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:5062/);
  });

  it('drops what cannot be answered', () => {
    expect(handle('HELLO WORLD\r\n\r\n')).toBe('dropped');
    expect(handle('')).toBe('dropped');
  });

  it('never throws on mutated or random input (fuzz)', () => {
    const outcomes = { message: 0, answered: 0, dropped: 0 };
    for (let i = 0; i < 20_000; i++) {
      const input = i % 10 === 0 ? randomBytes(Math.floor(Math.random() * 600)).toString('binary') : mutate(INVITE, 1 + Math.floor(Math.random() * 6));
      outcomes[handle(input)]++;
    }
    // Every kind of outcome happened: the fuzzer reached past the first line.
    expect(outcomes.message).toBeGreaterThan(0);
    expect(outcomes.dropped).toBeGreaterThan(0);
  });
});
