import { randomBytes } from 'node:crypto';
import * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { badRequestFor, readDatagram } from './SipTransport.ts';
import { establish, offerSdp, RawPhone, sipRequest, startHarness, token } from './testHarness.ts';

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

const FROM = { address: '127.0.0.9', port: 5099 };

/**
 * What the gateway does with bytes off the wire: the transport's own parser and checks, then
 * (as SipServer does) an answer built for a message, or a 400 built from the raw text.
 */
function handle(text: string): 'message' | 'answered' | 'dropped' {
  const received = readDatagram(text, FROM);
  if (received.kind === 'message') {
    sip.stringify(sip.makeResponse(received.message, 200, 'OK'));
    return 'message';
  }
  if (received.kind === 'keepalive') return 'dropped';
  return badRequestFor(received.raw, 'Bad Request') === null ? 'dropped' : 'answered';
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

const NUMBERS = ['0', '65536', '70000', '99999', '-1', '4294967296', '1e3', '08', ''];
const WORDS = ['foo', '<foo>', 'sip:', 'sip:@', 'sip:a@b:99999', '""', ';', '*', '0.0.0.0', '255.255.255.255', '[::1]', 'tel:1'];

/** Byte mutations, plus grammar-aware ones: numbers made extreme, URIs and words made odd. */
function mutateSmart(text: string, rounds: number): string {
  let out = text;
  for (let r = 0; r < rounds; r++) {
    const op = Math.floor(Math.random() * 3);
    if (op === 0) {
      const numbers = [...out.matchAll(/\d+/g)];
      const m = numbers[Math.floor(Math.random() * numbers.length)];
      if (m?.index !== undefined) out = out.slice(0, m.index) + NUMBERS[Math.floor(Math.random() * NUMBERS.length)] + out.slice(m.index + m[0].length);
    } else if (op === 1) {
      const words = [...out.matchAll(/<[^>\r\n]*>|[A-Za-z0-9.:@+-]+/g)];
      const m = words[Math.floor(Math.random() * words.length)];
      if (m?.index !== undefined) out = out.slice(0, m.index) + WORDS[Math.floor(Math.random() * WORDS.length)] + out.slice(m.index + m[0].length);
    } else {
      out = mutate(out, 1);
    }
  }
  return out;
}

describe('SIP input handling', () => {
  it('accepts a well-formed INVITE', () => {
    expect(handle(INVITE)).toBe('message');
  });

  it('notes where a request really came from (RFC 3581), and keeps a keep-alive out', () => {
    const received = readDatagram(INVITE, FROM);
    if (received.kind !== 'message') throw new Error(`expected a message, got ${received.kind}`);
    expect(received.message.headers.via[0].params).toMatchObject({ received: '127.0.0.9', rport: 5099 });
    expect(readDatagram('\r\n\r\n', FROM)).toEqual({ kind: 'keepalive' });
  });

  it('refuses a message without the headers every message must have', () => {
    const noCallId = INVITE.replace('Call-ID: a84b4c76e66710@127.0.0.1\r\n', '');
    expect(readDatagram(noCallId, FROM)).toEqual({ kind: 'malformed', raw: noCallId });
    const wrongCseq = INVITE.replace('CSeq: 314159 INVITE', 'CSeq: 314159 BYE');
    expect(readDatagram(wrongCseq, FROM).kind).toBe('malformed');
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

  it('the running gateway survives mutated INVITE, ACK, BYE, INFO, CANCEL, re-INVITE and SDP (fuzz)', { timeout: 60_000 }, async () => {
    const escaped: unknown[] = [];
    const onEscape = (error: unknown) => escaped.push(error);
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    const harness = await startHarness({ gateway: { maxCalls: 150, pinGuesses: 1_000_000 } });
    const phone = await new RawPhone(harness.port).open();
    try {
      // A live call, so that in-dialog messages reach the dialog code and not only the 481.
      const live = await establish(phone);
      const ivr = await establish(phone, { pin: 'conference' });
      const dialog = { callId: live.callId, fromTag: live.fromTag, toTag: live.toTag };
      const corpus = [
        sipRequest(phone, 'INVITE', { callId: token(), fromTag: token(), body: offerSdp(40000), extra: ['Record-Route: <sip:proxy.example;lr>'] }),
        sipRequest(phone, 'INVITE', { uri: 'sip:conference@127.0.0.1', callId: token(), fromTag: token(), body: offerSdp(40002) }),
        sipRequest(phone, 'ACK', { ...dialog, cseq: 1 }),
        sipRequest(phone, 'INFO', { ...ivr, uri: 'sip:conference@127.0.0.1', cseq: 2, extra: ['Content-Type: application/dtmf-relay'], body: 'Signal=5\r\nDuration=160\r\n' }),
        sipRequest(phone, 'INVITE', { ...dialog, cseq: 3, body: offerSdp(40004) }),
        sipRequest(phone, 'CANCEL', { callId: token(), fromTag: token(), cseq: 1 }),
        sipRequest(phone, 'OPTIONS', { callId: token(), fromTag: token() }),
        sipRequest(phone, 'BYE', { ...dialog, cseq: 4 }),
      ];
      const sdpBodies = [offerSdp(40006), offerSdp(40008).replace('RTP/AVP 8 0 101', 'RTP/AVP 111').replace('a=rtpmap:8 PCMA/8000', 'a=rtpmap:111 opus/48000/2')];
      const cases = 3000;
      for (let i = 0; i < cases; i++) {
        let input: string;
        if (i % 5 === 0) {
          // Valid SIP around a mutated SDP body: the SDP parser and the media path get it.
          const body = mutateSmart(sdpBodies[i % sdpBodies.length]!, 1 + Math.floor(Math.random() * 3));
          input =
            i % 10 === 0
              ? sipRequest(phone, 'INVITE', { ...dialog, cseq: 10 + i, body })
              : sipRequest(phone, 'INVITE', { uri: `sip:${i % 15 === 0 ? '123456789' : 'conference'}@127.0.0.1`, callId: token(), fromTag: token(), body });
        } else {
          input = mutateSmart(corpus[i % corpus.length]!, 1 + Math.floor(Math.random() * 4));
        }
        phone.send(input);
        if (i % 25 === 0) {
          await new Promise((r) => setTimeout(r, 2));
          // The meeting's mix reaches every caller in a meeting: media goes where each SDP said.
          harness.mixToCallers();
        }
      }
      await new Promise((r) => setTimeout(r, 500));
      // Still answering, and nothing escaped into the process.
      const options = await phone.request(sipRequest(phone, 'OPTIONS', { callId: token(), fromTag: token() }), 5000);
      expect(options).toMatch(/^SIP\/2\.0 200 /);
      expect(escaped).toEqual([]);
    } finally {
      phone.close();
      await harness.close();
      process.off('uncaughtException', onEscape);
      process.off('unhandledRejection', onEscape);
    }
  });
});
