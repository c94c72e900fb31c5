import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cspViolations, launchBrowser, type TestBrowser } from './support/browser.ts';
import { createMeeting, type RunningServer, startServer } from './support/server.ts';
import { controlsOffScreen, DESKTOP, horizontalOverflow, joinByUi, openPage, openPeople, PHONE, smallTargets, tileOf } from './support/webui.ts';

// The web client driven as people use it: by the labels and roles they see.
describe('the web client', () => {
  let server: RunningServer;
  let browser: TestBrowser;
  const notFound: string[] = [];
  const pages: Page[] = [];
  const track = (page: Page) => {
    pages.push(page);
    page.on('response', (res) => {
      // API answers may be 404 (an unknown meeting); the page's own files and icon may not.
      if (res.status() === 404 && !new URL(res.url()).pathname.startsWith('/v1/')) notFound.push(res.url());
    });
    return page;
  };

  beforeAll(async () => {
    server = await startServer({
      port: 3181,
      env: { MEDIA_WORKERS: '1', MEDIA_PORT_BASE: '48500', MEDIA_RTC_MIN_PORT: '48510', MEDIA_RTC_MAX_PORT: '48600', RECONNECT_GRACE_MS: '15000' },
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  afterEach(() => {
    expect(cspViolations.splice(0)).toEqual([]);
    expect(notFound.splice(0)).toEqual([]);
  });

  it('starts a meeting from the root page with the API key', async () => {
    const page = track(await openPage(browser.browser, `${server.url}/`, 'starter'));
    await page.getByLabel('Meeting title').fill('Planning');
    await page.getByLabel('API key').fill('wrong-key');
    await page.getByRole('button', { name: 'Start meeting' }).click();
    await page.getByText('That API key is not valid.').waitFor();
    await page.getByLabel('API key').fill('dev-api-key');
    await page.getByRole('button', { name: 'Start meeting' }).click();
    await page.waitForURL(/\/m\/[A-Za-z0-9_-]+\?hostKey=/);
    await page.getByRole('heading', { name: 'Planning' }).waitFor();
    await page.getByRole('button', { name: 'Join meeting' }).waitFor();
    await page.context().close();
  });

  it('tells an unknown meeting apart, without a join button', async () => {
    const page = track(await openPage(browser.browser, `${server.url}/m/nosuchmeeting`, 'lost'));
    await page.getByRole('heading', { name: 'Meeting not found' }).waitFor();
    expect(await page.getByRole('button', { name: 'Join meeting' }).count()).toBe(0);
    await page.context().close();
  });

  it('shows the Chinese interface to a Chinese browser, and switches to English', async () => {
    const meeting = await createMeeting(server.url);
    const page = track(await openPage(browser.browser, `${server.url}/m/${meeting.id}`, 'zh', { ...DESKTOP, locale: 'zh-CN' }));
    await page.getByRole('button', { name: '加入会议' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('button', { name: 'Join meeting' }).waitFor();
    await page.context().close();
  });

  describe('a three-person call on desktops', () => {
    let meeting: Awaited<ReturnType<typeof createMeeting>>;
    let alice: Page;
    let bob: Page;
    let carol: Page;

    beforeAll(async () => {
      meeting = await createMeeting(server.url, { title: 'Design review' });
    });

    afterAll(async () => {
      for (const page of pages.splice(0)) await page.context().close().catch(() => undefined);
    });

    it('previews the camera and the microphone level before joining', async () => {
      alice = track(await openPage(browser.browser, `${server.url}/m/${meeting.id}?hostKey=${meeting.hostKey}`, 'Alice'));
      await alice.getByRole('heading', { name: 'Design review' }).waitFor();
      await alice.waitForFunction(() => (document.querySelector<HTMLVideoElement>('video[aria-label="Camera preview"]')?.videoWidth ?? 0) > 0);
      await alice.waitForFunction(() => (document.querySelector<HTMLMeterElement>('meter')?.value ?? 0) > 0);
      await alice.getByLabel('Camera', { exact: true }).first().waitFor();
      await alice.getByLabel('Your name').fill('Alice');
      await alice.getByRole('button', { name: 'Join meeting' }).click();
      await alice.getByRole('button', { name: 'Leave' }).waitFor();
      await tileOf(alice, 'Alice (you)').locator('video').waitFor();
    });

    it('shows three people, and a mute and a camera turned off on the others’ tiles', async () => {
      bob = track(await joinByUi(browser.browser, server.url, meeting.id, 'Bob'));
      carol = track(await joinByUi(browser.browser, server.url, meeting.id, 'Carol'));
      for (const [page, others] of [
        [alice, ['Bob', 'Carol']],
        [bob, ['Alice', 'Carol']],
        [carol, ['Alice', 'Bob']],
      ] as const) {
        for (const name of others) await tileOf(page, name).locator('video').waitFor({ timeout: 20_000 });
      }
      await bob.getByRole('button', { name: 'Microphone', exact: true }).click();
      await expect.poll(() => bob.getByRole('button', { name: 'Microphone', exact: true }).getAttribute('aria-pressed')).toBe('false');
      await tileOf(alice, 'Bob').getByRole('img', { name: 'Bob is muted' }).waitFor();
      await tileOf(carol, 'Bob').getByRole('img', { name: 'Bob is muted' }).waitFor();
      await bob.getByRole('button', { name: 'Camera', exact: true }).click();
      await tileOf(alice, 'Bob').getByRole('img', { name: "Bob's camera is off" }).waitFor();
      expect(await tileOf(alice, 'Bob').locator('video').count()).toBe(0);
      // Back on: the indicators go.
      await bob.getByRole('button', { name: 'Microphone', exact: true }).click();
      await tileOf(alice, 'Bob').getByRole('img', { name: 'Bob is muted' }).waitFor({ state: 'detached' });
    });

    it('lets the host mute a guest, whose button then shows muted', async () => {
      await tileOf(alice, 'Carol').hover();
      await tileOf(alice, 'Carol').getByRole('button', { name: 'Host tools for Carol' }).click();
      await alice.getByRole('menuitem', { name: 'Mute Carol' }).click();
      await carol.getByText('A host muted you.').waitFor();
      await expect.poll(() => carol.getByRole('button', { name: 'Microphone', exact: true }).getAttribute('aria-pressed')).toBe('false');
      await tileOf(alice, 'Carol').getByRole('img', { name: 'Carol is muted' }).waitFor();
      // Her first click unmutes, as the button said.
      await carol.getByRole('button', { name: 'Microphone', exact: true }).click();
      await tileOf(alice, 'Carol').getByRole('img', { name: 'Carol is muted' }).waitFor({ state: 'detached' });
    });

    it('shows a raised hand to the host, who lowers it, and passes reactions around', async () => {
      await carol.getByRole('button', { name: 'Reactions' }).click();
      await carol.getByRole('menuitem', { name: 'Raise hand' }).click();
      await carol.getByRole('button', { name: 'Hand raised' }).waitFor();
      await alice.getByText('Carol raised a hand.').waitFor();
      await tileOf(alice, 'Carol').getByRole('img', { name: 'Carol raised a hand' }).waitFor();
      const people = await openPeople(alice);
      await people.getByRole('img', { name: 'Carol raised a hand' }).waitFor();
      await people.getByRole('button', { name: 'Host tools for Carol' }).click();
      await alice.getByRole('menuitem', { name: "Lower Carol's hand" }).click();
      await carol.getByText('A host lowered your hand.').waitFor();
      await carol.getByRole('button', { name: 'Reactions' }).waitFor();
      await tileOf(alice, 'Carol').getByRole('img', { name: 'Carol raised a hand' }).waitFor({ state: 'detached' });
      await alice.getByRole('button', { name: 'Close panel' }).click();

      await bob.getByRole('button', { name: 'Reactions' }).click();
      await bob.getByRole('menuitem', { name: 'Applause' }).click();
      await alice.getByRole('listitem', { name: 'Applause from Bob' }).waitFor();
      await carol.getByRole('listitem', { name: 'Applause from Bob' }).waitFor();
      await bob.getByRole('listitem', { name: 'Applause from Bob' }).waitFor();
    });

    it('shows a reconnecting banner while the network is cut for 5 s', async () => {
      await carol.context().setOffline(true);
      await carol.evaluate(() => window.convene!.disconnectTransportForTest());
      await carol.getByRole('alert').filter({ hasText: 'Reconnecting' }).waitFor();
      await new Promise((r) => setTimeout(r, 5000));
      await carol.context().setOffline(false);
      await carol.getByRole('alert').filter({ hasText: 'Reconnecting' }).waitFor({ state: 'detached', timeout: 20_000 });
      await tileOf(carol, 'Alice').locator('video').waitFor();
    });

    it('lets the host remove a guest, who sees the removed screen and no way back in', async () => {
      const people = await openPeople(alice);
      await people.getByRole('button', { name: 'Host tools for Bob' }).click();
      await alice.getByRole('menuitem', { name: 'Remove Bob' }).click();
      await alice.getByRole('menuitem', { name: 'Remove', exact: true }).click();
      await bob.getByRole('heading', { name: 'You were removed' }).waitFor();
      expect(await bob.getByRole('button', { name: 'Rejoin' }).count()).toBe(0);
      expect(await bob.getByRole('button', { name: 'Leave' }).count()).toBe(0);
      await tileOf(alice, 'Bob').waitFor({ state: 'detached' });
    });

    it('leaves to a screen that offers to rejoin', async () => {
      await carol.getByRole('button', { name: 'Leave' }).click();
      await carol.getByRole('heading', { name: 'You left the meeting' }).waitFor();
      await tileOf(alice, 'Carol').waitFor({ state: 'detached' });
      await carol.getByRole('button', { name: 'Rejoin' }).click();
      await carol.getByRole('button', { name: 'Leave' }).waitFor();
      await tileOf(alice, 'Carol').waitFor();
    });

    it('ends the meeting for all from the host tools', async () => {
      const people = await openPeople(alice);
      await people.getByRole('button', { name: 'Lock meeting' }).click();
      await people.getByRole('button', { name: 'Unlock meeting' }).waitFor();
      await people.getByRole('button', { name: 'End meeting for all' }).click();
      await people.getByRole('button', { name: 'End meeting for all' }).click();
      await carol.getByRole('heading', { name: 'The meeting has ended' }).waitFor();
      expect(await carol.getByRole('button', { name: 'Rejoin' }).count()).toBe(0);
      await alice.getByRole('heading', { name: 'The meeting has ended' }).waitFor();
    });
  });

  describe('on a phone in WeChat (390x844, touch)', () => {
    let meeting: Awaited<ReturnType<typeof createMeeting>>;
    let host: Page;
    let phone: Page;

    beforeAll(async () => {
      meeting = await createMeeting(server.url, { title: 'Phone check' });
      host = track(await joinByUi(browser.browser, server.url, meeting.id, 'Host', DESKTOP, `?hostKey=${meeting.hostKey}`));
    });

    afterAll(async () => {
      for (const page of pages.splice(0)) await page.context().close().catch(() => undefined);
    });

    const fitsTheScreen = async (page: Page) => {
      const { documentWidth, viewportWidth } = await horizontalOverflow(page);
      expect(documentWidth).toBeLessThanOrEqual(viewportWidth);
    };

    it('joins through a prejoin that fits the screen', async () => {
      phone = track(await openPage(browser.browser, `${server.url}/m/${meeting.id}`, 'Phone', PHONE));
      await phone.getByRole('button', { name: 'Join meeting' }).waitFor();
      await fitsTheScreen(phone);
      await phone.getByLabel('Your name').fill('Wei');
      await phone.getByRole('button', { name: 'Join meeting' }).tap();
      await phone.getByRole('button', { name: 'Leave' }).waitFor();
      await tileOf(phone, 'Host').locator('video').waitFor({ timeout: 20_000 });
      await tileOf(host, 'Wei').locator('video').waitFor({ timeout: 20_000 });
    });

    it('keeps every control on screen and finger-sized, without screen sharing', async () => {
      await fitsTheScreen(phone);
      expect(await controlsOffScreen(phone)).toEqual([]);
      expect(await smallTargets(phone)).toEqual([]);
      expect(await phone.getByRole('button', { name: /Share screen/ }).count()).toBe(0);
      await phone.getByRole('button', { name: 'Switch camera' }).waitFor();
      const people = await openPeople(phone);
      await people.getByText('Host').first().waitFor();
      await fitsTheScreen(phone);
      await phone.getByRole('button', { name: 'Close panel' }).tap();
      await phone.setViewportSize({ width: 844, height: 390 });
      await fitsTheScreen(phone);
      expect(await controlsOffScreen(phone)).toEqual([]);
      await phone.setViewportSize({ width: 390, height: 844 });
    });

    it('shows a host mute and the mute indicators on the phone', async () => {
      await tileOf(host, 'Wei').getByRole('button', { name: 'Host tools for Wei' }).click();
      await host.getByRole('menuitem', { name: 'Mute Wei' }).click();
      await expect.poll(() => phone.getByRole('button', { name: 'Microphone', exact: true }).getAttribute('aria-pressed')).toBe('false');
      await host.getByRole('button', { name: 'Microphone', exact: true }).click();
      await tileOf(phone, 'Host').getByRole('img', { name: 'Host is muted' }).waitFor();
      await phone.getByRole('button', { name: 'Camera', exact: true }).tap();
      await tileOf(host, 'Wei').getByRole('img', { name: "Wei's camera is off" }).waitFor();
    });

    it('raises a hand from a menu that stays on the phone’s screen', async () => {
      await phone.getByRole('button', { name: 'Reactions' }).tap();
      const menu = phone.getByRole('menu', { name: 'Reactions' });
      const box = (await menu.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      expect(await smallTargets(phone)).toEqual([]);
      await phone.getByRole('menuitem', { name: 'Raise hand' }).tap();
      await tileOf(host, 'Wei').getByRole('img', { name: 'Wei raised a hand' }).waitFor();
      await fitsTheScreen(phone);
    });

    it('shows the reconnecting banner, then the removed screen', async () => {
      await phone.context().setOffline(true);
      await phone.evaluate(() => window.convene!.disconnectTransportForTest());
      await phone.getByRole('alert').filter({ hasText: 'Reconnecting' }).waitFor();
      await new Promise((r) => setTimeout(r, 5000));
      await phone.context().setOffline(false);
      await phone.getByRole('alert').filter({ hasText: 'Reconnecting' }).waitFor({ state: 'detached', timeout: 20_000 });
      await tileOf(host, 'Wei').getByRole('button', { name: 'Host tools for Wei' }).click();
      await host.getByRole('menuitem', { name: 'Remove Wei' }).click();
      await host.getByRole('menuitem', { name: 'Remove', exact: true }).click();
      await phone.getByRole('heading', { name: 'You were removed' }).waitFor();
      await fitsTheScreen(phone);
    });

    it('leaves to a screen with rejoin', async () => {
      const again = track(await joinByUi(browser.browser, server.url, meeting.id, 'Lin', PHONE));
      await again.getByRole('button', { name: 'Leave' }).tap();
      await again.getByRole('heading', { name: 'You left the meeting' }).waitFor();
      await again.getByRole('button', { name: 'Rejoin' }).waitFor();
      await fitsTheScreen(again);
    });
  });
});
