/**
 * Chromium and Firefox in one call, each in its own lab host with a real 198.18/15 address
 * (needs root: network namespaces). Firefox gathers host candidates only on real interfaces,
 * never on loopback, so this is the only way to test it at all.
 */
import type { Page as PuppeteerPage } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { CHROMIUM_PATH, joinInBrowser, launchBrowser, type TestBrowser } from './support/browser.ts';
import { type LabFirefox, launchFirefox } from './support/firefox.ts';
import { expectFlowing, participantIdOf, selectedPath } from './support/lab.ts';
import { type LabHost, NetLab } from './support/netlab.ts';
import { createMeeting, type RunningServer, startServer } from './support/server.ts';

const root = process.getuid?.() === 0;
const PORT = 30_110;

describe.runIf(root)('Chromium and Firefox in the network lab', () => {
  let lab: NetLab;
  let sfu: LabHost;
  let server: RunningServer;
  let chromium: TestBrowser | undefined;
  let firefox: LabFirefox | undefined;

  beforeAll(async () => {
    lab = await NetLab.create({ pool: '198.18.0.0/20' });
    sfu = await lab.addHost('sfu');
    server = await startServer({ port: PORT, host: sfu.address, spawn: sfu.spawn, env: { MEDIA_WORKERS: '1', MEDIA_ANNOUNCED_ADDRESS: sfu.address } });
  }, 90_000);

  afterAll(async () => {
    await chromium?.close().catch(() => undefined);
    await firefox?.close().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  it('carries audio and video both ways between Chromium and Firefox', async () => {
    const chromeHost = await lab.addHost('chrome');
    const foxHost = await lab.addHost('fox');
    chromium = await launchBrowser({ executablePath: chromeHost.wrapper(CHROMIUM_PATH), args: [`--unsafely-treat-insecure-origin-as-secure=${server.url}`] });
    firefox = await launchFirefox(lab, foxHost);

    const meeting = await createMeeting(server.url, { title: 'Two browsers' });
    const alice = await joinInBrowser(chromium.browser, server.url, meeting.id, 'Chromium Alice');
    const fox: PuppeteerPage = await firefox.browser.newPage();
    fox.on('pageerror', (error) => console.error('[Firefox] page error', error));
    await fox.goto(`${server.url}/m/${meeting.id}?name=Firefox%20Bob&autojoin=1`);
    await waitFor(() => fox.evaluate(() => window.convene?.self !== undefined), { timeoutMs: 30_000, intervalMs: 250, what: 'Firefox to join' });
    const userAgent = await fox.evaluate(() => navigator.userAgent);
    expect(userAgent).toContain('Firefox/');

    const [aliceId, bobId] = [await participantIdOf(alice), await participantIdOf(fox)];
    await expectFlowing(alice, bobId, 'mic');
    const video = await expectFlowing(alice, bobId, 'camera');
    await expectFlowing(fox, aliceId, 'mic');
    const foxVideo = await expectFlowing(fox, aliceId, 'camera');
    expect(video.framesDecoded).toBeGreaterThan(0);
    expect(foxVideo.framesDecoded).toBeGreaterThan(0);

    // Firefox reached the SFU from its own lab address, not over loopback.
    const path = await waitFor(() => selectedPath(fox, 'send'), { timeoutMs: 10_000, what: "Firefox's selected pair" });
    console.info(`Firefox send transport: ${JSON.stringify(path)} (${userAgent})`);
    expect(path.localAddress).toBe(foxHost.address);
    expect(path.remoteAddress.startsWith(`${sfu.address}:`)).toBe(true);
  });
});
