import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.js';
import { inboundStats, joinInBrowser, launchBrowser, type TestBrowser } from './support/browser.js';
import { api, createMeeting, type RunningServer, startServer } from './support/server.js';

const GRACE_MS = 8000;

/** Waits until `page` receives the given source from `from` with growing bytes (and frames, for video). */
async function expectFlowing(page: Page, fromParticipantId: string, source: string, timeoutMs = 15_000) {
  const first = await waitFor(
    async () => (await inboundStats(page)).find((s) => s.participantId === fromParticipantId && s.source === source && s.bytesReceived > 0),
    { timeoutMs, what: `${source} from ${fromParticipantId}` },
  );
  return waitFor(
    async () => {
      const now = (await inboundStats(page)).find((s) => s.producerId === first.producerId);
      if (!now || now.bytesReceived <= first.bytesReceived) return undefined;
      if (now.kind === 'video' && now.framesDecoded <= first.framesDecoded) return undefined;
      return now;
    },
    { timeoutMs, what: `${source} from ${fromParticipantId} to keep flowing` },
  );
}

const selfId = (page: Page) => page.evaluate(() => window.convene!.participantId);

describe('a meeting in the browser', () => {
  let server: RunningServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    server = await startServer({
      port: 3101,
      env: { MEDIA_WORKERS: '2', MEDIA_PORT_BASE: '46000', MEDIA_RTC_MIN_PORT: '46010', MEDIA_RTC_MAX_PORT: '46200', RECONNECT_GRACE_MS: String(GRACE_MS) },
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('two participants joining by link receive each other\'s audio and video', async () => {
    const meeting = await createMeeting(server.url, { title: 'E2E' });
    const alice = await joinInBrowser(browser.browser, server.url, meeting.id, 'Alice');
    const bob = await joinInBrowser(browser.browser, server.url, meeting.id, 'Bob');
    const [aliceId, bobId] = [await selfId(alice), await selfId(bob)];
    await expectFlowing(alice, bobId, 'mic');
    await expectFlowing(alice, bobId, 'camera');
    await expectFlowing(bob, aliceId, 'mic');
    const video = await expectFlowing(bob, aliceId, 'camera');
    expect(video.framesDecoded).toBeGreaterThan(0);
    await alice.context().close();
    await bob.context().close();
  });
});
