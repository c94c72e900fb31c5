import dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { startCapture } from './sip/capture.ts';
import { analyseG711, toneLevel } from './sip/capture.ts';
import { startFakeUas } from './sip/fakeUas.ts';
import { writeDtmfPcap, writeTonePcap } from './sip/pcap.ts';
import { buildInvite, flood, freeMediaPort, runSipp, sendRawSip } from './sip/sipp.ts';
import { startTestBot, type TestBot } from './support/bots.ts';
import { api, createMeeting, type RunningServer, startServer } from './support/server.ts';

// Several checkouts share a machine: SIP_E2E_PORT_OFFSET moves every fixed port of this file.
const OFFSET = Number(process.env.SIP_E2E_PORT_OFFSET ?? 0);
const SIP_PORT = 5070 + OFFSET;

/** An INVITE from 127.0.0.2, a trunk address that is not on the allowlist; the first final answer. */
async function fromElsewhere(message: string): Promise<string | null> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.2', () => resolve()));
  const text = message.replaceAll('{{localPort}}', String(socket.address().port)).replaceAll('127.0.0.1:' + socket.address().port, '127.0.0.2:' + socket.address().port);
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 3000);
      socket.on('message', (data) => {
        const answer = data.toString();
        if (/^SIP\/2\.0 1\d\d /.test(answer)) return;
        clearTimeout(timer);
        resolve(answer);
      });
      socket.send(text, SIP_PORT, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}
const dir = mkdtempSync(path.join(tmpdir(), 'convene-sip-'));

describe('telephone participants through the SIP gateway', () => {
  let server: RunningServer;
  const bots: TestBot[] = [];

  beforeAll(async () => {
    server = await startServer({
      port: 3301 + OFFSET,
      env: {
        MEDIA_WORKERS: '1',
        MEDIA_PORT_BASE: String(46800 + OFFSET),
        MEDIA_RTC_MIN_PORT: String(46810 + OFFSET),
        MEDIA_RTC_MAX_PORT: String(46990 + OFFSET),
        SIP_PORT: String(SIP_PORT),
        SIP_RTP_TIMEOUT_MS: '3000',
        SIP_ALLOWED_IPS: '127.0.0.1',
        SIP_DIGEST_USERS: 'trunk:trunk-secret',
        SIP_DIAL_ALLOWLIST: '127.0.0.1',
      },
    });
  });

  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop()));
    await server?.stop();
  });

  const mediaLoad = async () =>
    ((await (await fetch(`${server.url}/healthz`)).json()) as { mediaLoad: { transports: number; producers: number; consumers: number } }).mediaLoad;

  const tonePcap = (frequency: number, durationMs: number) => {
    const file = path.join(dir, `tone-${frequency}-${durationMs}.pcap`);
    writeTonePcap(file, { frequency, durationMs, codec: 'PCMA' });
    return file;
  };

  const participants = async (meetingId: string) =>
    (await api<{ participants: Array<{ id: string; name: string; kind: string }> }>(server.url, 'GET', `/v1/meetings/${meetingId}/participants`, undefined, { 'x-api-key': 'dev-api-key' })).body.participants;

  it('lets a caller dial in with the PIN: browser and caller hear each other', async () => {
    const meeting = await createMeeting(server.url);
    const bot = await startTestBot({ baseUrl: server.url, meetingId: meeting.id, name: 'Browser', toneHz: 440 });
    bots.push(bot);
    const tone = path.join(dir, 'tone-1000.pcap');
    writeTonePcap(tone, { frequency: 1000, durationMs: 6000, codec: 'PCMA' });
    const mediaPort = 16000;
    const capture = await startCapture({ port: mediaPort });
    const call = runSipp({ scenario: 'uac-pin', service: meeting.pin, mediaPort, pcaps: { 'audio.pcap': tone }, keys: { audio_ms: '6000' }, timeoutMs: 20_000 });
    const phone = await waitFor(async () => (await participants(meeting.id)).find((p) => p.kind === 'phone'), { timeoutMs: 8000, what: 'the caller in the meeting' });
    expect(phone.name).toMatch(/^Phone/);
    // The browser hears the caller: the phone's producer reaches it with real energy.
    await waitFor(async () => (await bot.levelFrom(phone.id)) > 0.05, { timeoutMs: 8000, what: 'caller audio at the browser' });
    const result = await call;
    const packets = await capture.stop();
    expect(result.code, result.errors || result.stderr).toBe(0);
    // The caller hears the browser: its G.711 carries the browser's 440 Hz tone.
    const heard = analyseG711(packets, 'PCMA', { dstPort: mediaPort });
    expect(heard.length).toBeGreaterThan(8000);
    expect(toneLevel(heard, 8000, 440)).toBeGreaterThan(0.05);
    await waitFor(async () => !(await participants(meeting.id)).some((p) => p.kind === 'phone'), { what: 'the caller gone after BYE' });
    await bot.stop();
  });

  it('takes the PIN as RFC 4733 DTMF and as SIP INFO through the IVR', async () => {
    const meeting = await createMeeting(server.url);
    const pin = path.join(dir, `pin-${meeting.pin}.pcap`);
    writeDtmfPcap(pin, `${meeting.pin}#`);
    const byDtmf = runSipp({
      scenario: 'uac-ivr-dtmf',
      service: 'conference',
      mediaPort: await freeMediaPort(),
      pcaps: { 'pin.pcap': pin, 'audio.pcap': tonePcap(1000, 4000) },
      keys: { pin_ms: '3500', audio_ms: '3000' },
      timeoutMs: 25_000,
    });
    await waitFor(async () => (await participants(meeting.id)).some((p) => p.kind === 'phone'), { timeoutMs: 10_000, what: 'the DTMF caller in the meeting' });
    const dtmfResult = await byDtmf;
    expect(dtmfResult.code, dtmfResult.errors || dtmfResult.stderr).toBe(0);
    await waitFor(async () => !(await participants(meeting.id)).some((p) => p.kind === 'phone'), { what: 'the DTMF caller gone' });

    const byInfo = runSipp({
      scenario: 'uac-ivr-info',
      service: 'conference',
      mediaPort: await freeMediaPort(),
      pcaps: { 'audio.pcap': tonePcap(1000, 4000) },
      keys: { digits: `${meeting.pin}#`, audio_ms: '3000' },
      timeoutMs: 25_000,
    });
    await waitFor(async () => (await participants(meeting.id)).some((p) => p.kind === 'phone'), { timeoutMs: 10_000, what: 'the INFO caller in the meeting' });
    const infoResult = await byInfo;
    expect(infoResult.code, infoResult.errors || infoResult.stderr).toBe(0);
  });

  it('refuses a wrong PIN three times and hangs up cleanly', async () => {
    const meeting = await createMeeting(server.url);
    const wrong = path.join(dir, 'wrong.pcap');
    writeDtmfPcap(wrong, '111111111#222222222#333333333#');
    const result = await runSipp({ scenario: 'uac-wrong-pin', service: 'conference', mediaPort: await freeMediaPort(), pcaps: { 'pin.pcap': wrong }, recvTimeoutMs: 20_000, timeoutMs: 30_000 });
    // The scenario passes only if the gateway sent BYE and took the 200.
    expect(result.code, result.errors || result.stderr).toBe(0);
    expect(result.messages).toMatch(/BYE sip:/);
    expect(await participants(meeting.id)).toEqual([]);
  });

  it('mixes minus: two callers each hear the other and not themselves', async () => {
    const meeting = await createMeeting(server.url);
    const [portA, portB] = [await freeMediaPort(), await freeMediaPort()];
    const captureA = await startCapture({ port: portA });
    const captureB = await startCapture({ port: portB });
    const a = runSipp({ scenario: 'uac-pin', service: meeting.pin, mediaPort: portA, pcaps: { 'audio.pcap': tonePcap(400, 7000) }, keys: { audio_ms: '7000' }, timeoutMs: 25_000 });
    const b = runSipp({ scenario: 'uac-pin', service: meeting.pin, mediaPort: portB, pcaps: { 'audio.pcap': tonePcap(1000, 7000) }, keys: { audio_ms: '7000' }, timeoutMs: 25_000 });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.code, ra.errors).toBe(0);
    expect(rb.code, rb.errors).toBe(0);
    const heardByA = analyseG711(await captureA.stop(), 'PCMA', { dstPort: portA });
    const heardByB = analyseG711(await captureB.stop(), 'PCMA', { dstPort: portB });
    expect(heardByA.length).toBeGreaterThan(8000);
    expect(heardByB.length).toBeGreaterThan(8000);
    expect(toneLevel(heardByA, 8000, 1000)).toBeGreaterThan(0.05);
    expect(toneLevel(heardByA, 8000, 400)).toBeLessThan(toneLevel(heardByA, 8000, 1000) / 20);
    expect(toneLevel(heardByB, 8000, 400)).toBeGreaterThan(0.05);
    expect(toneLevel(heardByB, 8000, 1000)).toBeLessThan(toneLevel(heardByB, 8000, 400) / 20);
  });

  it('cleans up after BYE from either side and after an RTP timeout', async () => {
    const meeting = await createMeeting(server.url);
    await waitFor(async () => (await mediaLoad()).transports === 0, { timeoutMs: 15_000, what: 'no media left from earlier calls' });
    const clean = async () => {
      await waitFor(async () => (await participants(meeting.id)).length === 0, { what: 'the caller gone' });
      await waitFor(async () => {
        const load = await mediaLoad();
        return load.transports === 0 && load.producers === 0 && load.consumers === 0;
      }, { what: 'no transport, producer or consumer left' });
    };

    // The caller hangs up (the scenario ends with BYE).
    const callerBye = await runSipp({ scenario: 'uac-pin', service: meeting.pin, mediaPort: await freeMediaPort(), pcaps: { 'audio.pcap': tonePcap(1000, 2000) }, keys: { audio_ms: '2000' } });
    expect(callerBye.code, callerBye.errors).toBe(0);
    await clean();

    // The host removes the caller: the gateway sends BYE.
    const removed = runSipp({ scenario: 'uac-remote-bye', service: meeting.pin, mediaPort: await freeMediaPort(), pcaps: { 'audio.pcap': tonePcap(1000, 8000) }, recvTimeoutMs: 20_000, timeoutMs: 30_000 });
    const phone = await waitFor(async () => (await participants(meeting.id)).find((p) => p.kind === 'phone'), { timeoutMs: 8000, what: 'the caller in the meeting' });
    const kick = await api(server.url, 'DELETE', `/v1/meetings/${meeting.id}/participants/${phone.id}`, undefined, { 'x-api-key': 'dev-api-key' });
    expect(kick.status).toBe(204);
    const removedResult = await removed;
    expect(removedResult.code, removedResult.errors).toBe(0);
    await clean();

    // The caller goes silent: after SIP_RTP_TIMEOUT_MS the gateway hangs up.
    const silent = await runSipp({ scenario: 'uac-wait-bye', service: meeting.pin, mediaPort: await freeMediaPort(), recvTimeoutMs: 15_000, timeoutMs: 20_000 });
    expect(silent.code, silent.errors).toBe(0);
    expect(silent.messages).toMatch(/RTP timeout/);
    await clean();
  });

  it('answers malformed SIP, unknown PINs, unauthenticated trunks and floods, and keeps serving', async () => {
    const meeting = await createMeeting(server.url);
    const malformed = await sendRawSip({
      transport: 'udp',
      port: SIP_PORT,
      message: 'INVITE sip:123@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {{localIp}}:{{localPort}};branch={{branch}}\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:123@127.0.0.1>\r\nCall-ID: {{callId}}\r\nCSeq: banana INVITE\r\nContent-Length: 0\r\n\r\n',
    });
    expect(malformed).toMatch(/^SIP\/2\.0 400 /);
    const tcpGarbage = await sendRawSip({ transport: 'tcp', port: SIP_PORT, message: 'HELLO\r\n\r\n', timeoutMs: 1000 });
    expect(tcpGarbage).toBeNull();

    const unknownPin = await sendRawSip({ transport: 'udp', port: SIP_PORT, message: buildInvite({ user: '999999999' }), skipProvisional: true });
    expect(unknownPin).toMatch(/^SIP\/2\.0 404 /);

    const stranger = await fromElsewhere(buildInvite({ user: meeting.pin }));
    expect(stranger).toMatch(/^SIP\/2\.0 401 /);
    expect(stranger).toMatch(/WWW-Authenticate: Digest/i);
    const forged = await fromElsewhere(
      buildInvite({ user: meeting.pin }).replace(
        'Max-Forwards',
        'Authorization: Digest username="trunk", realm="convene", nonce="made-up", uri="sip:x@127.0.0.1", response="00000000000000000000000000000000"\r\nMax-Forwards',
      ),
    );
    expect(forged).toMatch(/^SIP\/2\.0 403 /);

    const storm = await flood({ count: 200, port: SIP_PORT });
    expect(storm.finals[503] ?? 0).toBeGreaterThan(0);

    // Still serving: a well-formed call goes through afterwards.
    await new Promise((r) => setTimeout(r, 1100));
    const after = await runSipp({ scenario: 'uac-pin', service: meeting.pin, mediaPort: await freeMediaPort(), pcaps: { 'audio.pcap': tonePcap(1000, 1500) }, keys: { audio_ms: '1500' } });
    expect(after.code, after.errors).toBe(0);
  });

  it('dials out for a host: the callee joins the meeting, hears it, and leaves on hanging up', async () => {
    const meeting = await createMeeting(server.url);
    const bot = await startTestBot({ baseUrl: server.url, meetingId: meeting.id, name: 'Host side', toneHz: 440 });
    const phone = await startFakeUas();
    try {
      const refused = await api(server.url, 'POST', `/v1/meetings/${meeting.id}/dial`, { uri: `sip:+15550001@127.0.0.1:${phone.port}` });
      expect(refused.status).toBe(401);
      const dialed = await api<{ callId: string }>(server.url, 'POST', `/v1/meetings/${meeting.id}/dial`, { uri: `sip:+15550001@127.0.0.1:${phone.port}` }, { 'x-api-key': 'dev-api-key' });
      expect(dialed.status).toBe(202);
      const callee = await waitFor(async () => (await participants(meeting.id)).find((p) => p.kind === 'phone'), { timeoutMs: 10_000, what: 'the callee in the meeting' });
      expect(callee.name).toMatch(/^Phone •+0001$/);
      const call = phone.calls.get(dialed.body.callId)!;
      // The callee talks and the meeting hears it; it hears the meeting's tone.
      const talking = phone.sendTone(call.callId, { frequency: 1000, durationMs: 3000, codec: 'PCMU' });
      await waitFor(async () => (await bot.levelFrom(callee.id)) > 0.05, { timeoutMs: 8000, what: 'the callee heard in the meeting' });
      await talking;
      await waitFor(() => phone.rtp.length > 50, { what: 'the meeting heard by the callee' });
      phone.bye(call.callId);
      await waitFor(async () => !(await participants(meeting.id)).some((p) => p.kind === 'phone'), { what: 'the callee gone' });
    } finally {
      await phone.close();
      await bot.stop();
    }
  });

  it('checks dial-out URIs at the API: no port means 5060, a bad port is a 400, a host off the allowlist a 403', async () => {
    const meeting = await createMeeting(server.url);
    const host = { 'x-api-key': 'dev-api-key' };
    // The README's own example has no port: the gateway dials 5060 and keeps running.
    const noPort = await api(server.url, 'POST', `/v1/meetings/${meeting.id}/dial`, { uri: 'sip:+15550100@127.0.0.1' }, host);
    expect(noPort.status).toBe(202);
    const badPort = await fetch(`${server.url}/v1/meetings/${meeting.id}/dial`, {
      method: 'POST',
      headers: { ...host, 'content-type': 'application/json' },
      body: JSON.stringify({ uri: 'sip:+15550100@127.0.0.1:99999' }),
    });
    expect(badPort.status).toBe(400);
    expect(badPort.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await badPort.json()) as { code: string }).code).toBe('validation_failed');
    const offList = await api<{ code: string }>(server.url, 'POST', `/v1/meetings/${meeting.id}/dial`, { uri: 'sip:+15550100@198.18.0.1' }, host);
    expect(offList.status).toBe(403);
    // The INVITE's retransmissions have run: the process is still serving.
    await new Promise((r) => setTimeout(r, 2000));
    expect(server.process.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
  });

  it('shows the phone PIN to hosts only: the public meeting view has none', async () => {
    const meeting = await createMeeting(server.url, { password: 'secret-words' });
    const anyone = await api<Record<string, unknown>>(server.url, 'GET', `/v1/meetings/${meeting.id}`);
    expect(anyone.status).toBe(200);
    expect(anyone.body.requiresPassword).toBe(true);
    expect(anyone.body).not.toHaveProperty('pin');
    const host = await api<Record<string, unknown>>(server.url, 'GET', `/v1/meetings/${meeting.id}`, undefined, { 'x-api-key': 'dev-api-key' });
    expect(host.body.pin).toBe(meeting.pin);
  });
});
