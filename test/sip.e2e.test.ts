import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.js';
import { startCapture } from './sip/capture.js';
import { analyseG711, toneLevel } from './sip/capture.js';
import { writeTonePcap } from './sip/pcap.js';
import { runSipp } from './sip/sipp.js';
import { startTestBot, type TestBot } from './support/bots.js';
import { api, createMeeting, type RunningServer, startServer } from './support/server.js';

const SIP_PORT = 5070;
const dir = mkdtempSync(path.join(tmpdir(), 'convene-sip-'));

describe('telephone participants through the SIP gateway', () => {
  let server: RunningServer;
  const bots: TestBot[] = [];

  beforeAll(async () => {
    server = await startServer({
      port: 3301,
      env: {
        MEDIA_WORKERS: '1',
        MEDIA_PORT_BASE: '46800',
        MEDIA_RTC_MIN_PORT: '46810',
        MEDIA_RTC_MAX_PORT: '46990',
        SIP_PORT: String(SIP_PORT),
        SIP_RTP_TIMEOUT_MS: '3000',
        SIP_ALLOWED_IPS: '127.0.0.1',
        SIP_DIGEST_USERS: 'trunk:trunk-secret',
      },
    });
  });

  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop()));
    await server?.stop();
  });

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
  });
});
