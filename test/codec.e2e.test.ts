import type { Page } from 'playwright-core';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { inboundStats, joinInBrowser, launchBrowser, type TestBrowser } from './support/browser.ts';
import { api, createMeeting, type RunningServer, startServer } from './support/server.ts';

// Ports from this test's own range (31000–31999), so that it never meets another test's server.
const PORT = 31100;

const selfId = (page: Page) => page.evaluate(() => window.convene!.participantId);

/** The codec this page's camera producer sends with, and the one its client says the meeting uses. */
const publishing = (page: Page) =>
  page.evaluate(() => ({
    meeting: window.convene!.videoCodec,
    camera: window.convene!.publication('camera')?.rtpParameters.codecs[0]?.mimeType.toLowerCase(),
  }));

/** Counts `joined` (a join or rejoin) from now on, to prove that nobody rejoins. */
const countJoins = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { joins: number };
    w.joins = 0;
    window.convene!.on('joined', () => {
      w.joins++;
    });
  });
const joins = (page: Page) => page.evaluate(() => (window as unknown as { joins: number }).joins);

/** The codec of the camera this page receives from a participant, with frames decoded and bytes received now. */
async function cameraFrom(page: Page, participantId: string) {
  const stats = (await inboundStats(page)).find((s) => s.participantId === participantId && s.source === 'camera');
  if (!stats) return undefined;
  const codec = await page.evaluate(
    (producerId) => window.convene!.remoteTracks.get(producerId)?.consumer.rtpParameters.codecs[0]?.mimeType.toLowerCase(),
    stats.producerId,
  );
  return { ...stats, codec };
}

/** Waits until `page` decodes `participantId`'s camera in `codec`, with frames and bytes still growing. */
async function seesCamera(page: Page, participantId: string, codec: string) {
  const first = await waitFor(async () => {
    const now = await cameraFrom(page, participantId);
    return now?.codec === codec && now.framesDecoded > 0 ? now : undefined;
  }, { timeoutMs: 30_000, what: `${codec} camera of ${participantId}` });
  return waitFor(async () => {
    const now = await cameraFrom(page, participantId);
    return now && now.producerId === first.producerId && now.framesDecoded > first.framesDecoded && now.bytesReceived > first.bytesReceived ? now : undefined;
  }, { timeoutMs: 30_000, what: `${codec} camera of ${participantId} to keep flowing` });
}

describe('codec policy in the browser', () => {
  let server: RunningServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    server = await startServer({
      port: PORT,
      env: { MEDIA_WORKERS: '1', SIP_PORT: String(PORT + 2), MEDIA_PORT_BASE: '31200', MEDIA_RTC_MIN_PORT: '31210', MEDIA_RTC_MAX_PORT: '31400' },
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('switches VP8 publishers to H264 when an H264-only client joins under auto, and back when it leaves; everyone sees everyone and nobody rejoins', async () => {
    const meeting = await createMeeting(server.url, { title: 'codecs' });
    const alice = await joinInBrowser(browser.browser, server.url, meeting.id, 'Alice');
    const bob = await joinInBrowser(browser.browser, server.url, meeting.id, 'Bob');
    const [aliceId, bobId] = [await selfId(alice), await selfId(bob)];
    await seesCamera(alice, bobId, 'video/vp8');
    await seesCamera(bob, aliceId, 'video/vp8');
    expect(await publishing(alice)).toEqual({ meeting: 'vp8', camera: 'video/vp8' });
    await countJoins(alice);
    await countJoins(bob);

    // Carol's device says it decodes H264 only (?codecs=h264 filters the SDK's capabilities).
    const carol = await joinInBrowser(browser.browser, server.url, meeting.id, 'Carol', '&codecs=h264');
    const carolId = await selfId(carol);
    const joinedCaps = await carol.evaluate(() => window.convene!.videoCodec);
    expect(joinedCaps).toBe('h264');
    for (const page of [alice, bob, carol]) {
      await waitFor(async () => {
        const now = await publishing(page);
        return now.meeting === 'h264' && now.camera === 'video/h264';
      }, { timeoutMs: 30_000, what: 'the camera republished in H264' });
    }
    const pairs: Array<[Page, string, string]> = [
      [alice, 'Alice', bobId],
      [alice, 'Alice', carolId],
      [bob, 'Bob', aliceId],
      [bob, 'Bob', carolId],
      [carol, 'Carol', aliceId],
      [carol, 'Carol', bobId],
    ];
    for (const [page, name, from] of pairs) {
      const seen = await seesCamera(page, from, 'video/h264');
      console.log(`${name} decodes H264 from ${from}: ${seen.framesDecoded} frames, ${seen.bytesReceived} bytes`);
    }

    // Nobody rejoined: the same three seats, and no join in the pages of those who switched.
    const { body } = await api<{ participants: Array<{ id: string }> }>(server.url, 'GET', `/v1/meetings/${meeting.id}/participants`, undefined, { 'x-api-key': 'dev-api-key' });
    expect(body.participants.map((p) => p.id).sort()).toEqual([aliceId, bobId, carolId].sort());
    expect(await joins(alice)).toBe(0);
    expect(await joins(bob)).toBe(0);

    // With Carol gone, everyone left decodes VP8 again: the preferred codec comes back.
    await carol.evaluate(() => window.convene!.leave());
    await carol.context().close();
    for (const page of [alice, bob]) {
      await waitFor(async () => (await publishing(page)).camera === 'video/vp8', { timeoutMs: 30_000, what: 'the camera back in VP8' });
    }
    await seesCamera(alice, bobId, 'video/vp8');
    await seesCamera(bob, aliceId, 'video/vp8');
    expect(await joins(alice)).toBe(0);
    expect(await joins(bob)).toBe(0);
    await alice.context().close();
    await bob.context().close();
  });

  it('lets the web client of a device that decodes no offered video codec join audio-only, hearing the others', async () => {
    const meeting = await createMeeting(server.url, { title: 'audio only' });
    const alice = await joinInBrowser(browser.browser, server.url, meeting.id, 'Alice');
    const aliceId = await selfId(alice);
    // ?codecs= with nothing known leaves the device no video codec: refused, then joined audio-only.
    const dora = await joinInBrowser(browser.browser, server.url, meeting.id, 'Dora', '&codecs=none');
    expect(await dora.evaluate(() => window.convene!.options.receiveVideo)).toBe(false);
    const mic = await waitFor(async () => (await inboundStats(dora)).find((s) => s.participantId === aliceId && s.source === 'mic' && s.bytesReceived > 0), {
      timeoutMs: 30_000,
      what: "Alice's microphone at Dora",
    });
    expect(mic.kind).toBe('audio');
    expect((await inboundStats(dora)).filter((s) => s.kind === 'video')).toEqual([]);
    // Dora did not count in the choice: Alice still publishes VP8.
    await waitFor(async () => (await publishing(alice)).camera === 'video/vp8', { timeoutMs: 30_000, what: "Alice's camera in VP8" });
    expect(await publishing(alice)).toEqual({ meeting: 'vp8', camera: 'video/vp8' });
    await alice.context().close();
    await dora.context().close();
  });

  it('refuses a video join whose device decodes no codec of the meeting, and admits it audio-only', async () => {
    const meeting = await createMeeting(server.url, { title: 'vp9 only', videoCodec: 'vp9' });
    const { body: issued } = await api<{ token: string }>(server.url, 'POST', `/v1/meetings/${meeting.id}/join`, { name: 'Dora' });
    const refusedOrAdmitted = await (async () => {
      const socket = io(server.url, { transports: ['websocket'], auth: { token: issued.token, meetingId: meeting.id, protocol: 2 }, reconnection: false, forceNew: true });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        const opus = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 };
        const vp8 = { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 };
        const refused = await socket.emitWithAck('join', { rtpCapabilities: { codecs: [opus, vp8] } });
        const admitted = await socket.emitWithAck('join', { rtpCapabilities: { codecs: [opus, vp8] }, receiveVideo: false });
        return { refused, admitted };
      } finally {
        socket.close();
      }
    })();
    expect(refusedOrAdmitted.refused).toMatchObject({ ok: false, error: { code: 'codec_unsupported' } });
    expect(refusedOrAdmitted.admitted).toMatchObject({ ok: true, data: { videoCodec: 'vp9', meeting: { videoCodec: 'vp9' } } });
  });
});
