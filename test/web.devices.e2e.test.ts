import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './support/browser.ts';
import { createMeeting, type RunningServer, startServer } from './support/server.ts';
import { DESKTOP, joinByUi, joinFromPrejoin, openPage, PHONE, tileOf } from './support/webui.ts';

/**
 * The web client on browsers set up unlike the test default, each a real Chromium launched so:
 * no camera or microphone, or media refused; and a phone whose page goes to the background.
 * The server runs in open mode (OPEN_MEETINGS), so the root page starts meetings without a key.
 * (Audio that waits for a tap is not covered: this Chromium autoplays WebRTC audio under every
 * `--autoplay-policy` tried, so the "Tap for sound" banner cannot be brought up for real.)
 */
describe('the web client on other browsers and devices', () => {
  let server: RunningServer;
  let browser: TestBrowser;
  let meeting: Awaited<ReturnType<typeof createMeeting>>;
  let host: Page;

  beforeAll(async () => {
    server = await startServer({
      port: 36020,
      env: { MEDIA_WORKERS: '1', MEDIA_PORT_BASE: '36300', MEDIA_RTC_MIN_PORT: '36310', MEDIA_RTC_MAX_PORT: '36400', OPEN_MEETINGS: 'true' },
    });
    browser = await launchBrowser();
    meeting = await createMeeting(server.url, { title: 'Devices' });
    host = await joinByUi(browser.browser, server.url, meeting.id, 'Host', DESKTOP, `?hostKey=${meeting.hostKey}`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const withBrowser = async (variant: Parameters<typeof launchBrowser>[0], run: (other: TestBrowser) => Promise<void>) => {
    const other = await launchBrowser(variant);
    try {
      await run(other);
    } finally {
      await other.close();
    }
  };

  it('starts a meeting from the root page without an API key on an open site', async () => {
    const page = await openPage(browser.browser, `${server.url}/`, 'starter');
    await page.getByLabel('Meeting title').fill('Drop-in');
    await page.getByRole('button', { name: 'Start meeting' }).waitFor();
    await expect.poll(() => page.getByLabel('API key').count()).toBe(0);
    await page.getByRole('button', { name: 'Start meeting' }).click();
    await page.waitForURL(/\/m\/[A-Za-z0-9_-]+\?hostKey=/);
    await page.getByRole('heading', { name: 'Drop-in' }).waitFor();
    await page.context().close();
  });

  it('explains a machine with no camera or microphone, and still lets its owner join to watch', async () => {
    await withBrowser({ noDevices: true }, async (other) => {
      const page = await openPage(other.browser, `${server.url}/m/${meeting.id}`, 'Nodev');
      await page.getByRole('alert').filter({ hasText: 'No camera or microphone was found' }).waitFor();
      await joinFromPrejoin(page, 'Nodev');
      await tileOf(page, 'Host').locator('video').waitFor({ timeout: 20_000 });
      await tileOf(host, 'Nodev').getByRole('img', { name: "Nodev's camera is off" }).waitFor();
      await page.getByRole('button', { name: 'Leave' }).click();
    });
  });

  it('explains media that the browser blocks, and lets its owner join without it', async () => {
    await withBrowser({ denyMedia: true }, async (other) => {
      const page = await openPage(other.browser, `${server.url}/m/${meeting.id}`, 'Denied');
      await page.getByRole('alert').filter({ hasText: 'The browser blocks the camera and microphone' }).waitFor();
      await joinFromPrejoin(page, 'Denied');
      await tileOf(host, 'Denied').getByRole('img', { name: 'Denied is muted' }).waitFor();
      await page.getByRole('button', { name: 'Leave' }).click();
    });
  });

  it('stops a phone’s camera while its page is in the background, and starts it again on return', async () => {
    const phone = await joinByUi(browser.browser, server.url, meeting.id, 'Wei', PHONE);
    await tileOf(host, 'Wei').locator('video').waitFor({ timeout: 20_000 });
    // Headless Chromium has no background tabs: tell the page what a phone's OS tells it.
    const setHidden = (hidden: boolean) =>
      phone.evaluate((value) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (value ? 'hidden' : 'visible') });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await setHidden(true);
    await tileOf(host, 'Wei').getByRole('img', { name: "Wei's camera is off" }).waitFor();
    await setHidden(false);
    await tileOf(host, 'Wei').locator('video').waitFor();
    expect(await phone.getByRole('button', { name: 'Camera', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await phone.context().close();
  });
});
