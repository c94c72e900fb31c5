import { describe, expect, it } from 'vitest';
import { buildSdp, negotiate, parseAudio } from './sdp.ts';

const SIPP_OFFER = ['v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 8 0 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-11,16', ''].join('\r\n');

describe('SDP offer/answer', () => {
  it('reads the audio stream of an offer in the offerer\'s order', () => {
    const offer = parseAudio(SIPP_OFFER);
    expect(offer).toEqual({ address: '127.0.0.1', port: 6000, codecs: [{ name: 'PCMA', payloadType: 8 }, { name: 'PCMU', payloadType: 0 }], telephoneEvent: 101 });
    expect(negotiate(offer!)).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEvent: 101 });
  });

  it('accepts opus and rejects offers without a common codec', () => {
    const opus = parseAudio(SIPP_OFFER.replace('RTP/AVP 8 0 101', 'RTP/AVP 111').replace('a=rtpmap:8 PCMA/8000', 'a=rtpmap:111 opus/48000/2'));
    expect(negotiate(opus!)).toMatchObject({ codec: 'opus', payloadType: 111 });
    const g729 = parseAudio(SIPP_OFFER.replace('RTP/AVP 8 0 101', 'RTP/AVP 18').replace('a=rtpmap:8 PCMA/8000', 'a=rtpmap:18 G729/8000'));
    expect(negotiate(g729!)).toBeNull();
    expect(parseAudio('garbage')).toBeNull();
  });

  it('builds an answer that parses back', () => {
    const answer = buildSdp({ address: '127.0.0.1', port: 7000, codecs: [{ name: 'PCMU', payloadType: 0 }], telephoneEvent: 101, sessionId: '42' });
    expect(parseAudio(answer)).toMatchObject({ port: 7000, codecs: [{ name: 'PCMU', payloadType: 0 }], telephoneEvent: 101 });
  });
});
