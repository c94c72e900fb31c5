import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { watchCsp } from './browser.ts';

/** WeChat's in-app browser on Android, as it announces itself. */
export const WECHAT_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.193 Mobile Safari/537.36 XWEB/1200045 MMWEBSDK/20240301 MicroMessenger/8.0.48.2580(0x28003035) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, userAgent: WECHAT_UA };
export const PHONE_LANDSCAPE: BrowserContextOptions = { ...PHONE, viewport: { width: 844, height: 390 } };

/** Opens a page of the web client in a fresh context (its own cookies, storage, devices). */
export async function openPage(browser: Browser, url: string, name: string, options: BrowserContextOptions = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', ...options });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error`, error));
  await watchCsp(page, name);
  await page.goto(url);
  return page;
}

/** Joins from the prejoin screen as a person would: name typed in, "Join meeting" pressed. */
export async function joinFromPrejoin(page: Page, name: string): Promise<void> {
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join meeting' }).click();
  await page.getByRole('button', { name: 'Leave' }).waitFor();
}

/** Opens the meeting link and joins through the prejoin screen. */
export async function joinByUi(browser: Browser, base: string, meetingId: string, name: string, options?: BrowserContextOptions, query = ''): Promise<Page> {
  const page = await openPage(browser, `${base}/m/${meetingId}${query}`, name, options);
  await joinFromPrejoin(page, name);
  return page;
}

/** A person's tile on the stage. */
export function tileOf(page: Page, name: string): Locator {
  return page.getByRole('region', { name: 'Participants' }).getByRole('figure', { name, exact: true });
}

/** Opens the people panel unless it is open. */
export async function openPeople(page: Page): Promise<Locator> {
  const button = page.getByRole('button', { name: /^People/ });
  if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
  return page.getByRole('complementary');
}

/** The document is no wider than the viewport: nothing scrolls sideways. */
export async function horizontalOverflow(page: Page): Promise<{ documentWidth: number; viewportWidth: number }> {
  return page.evaluate(() => ({ documentWidth: document.documentElement.scrollWidth, viewportWidth: window.innerWidth }));
}

/** Buttons of the call controls whose box is not wholly inside the viewport, by name. */
export async function controlsOffScreen(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('nav.controls button')) {
      const r = el.getBoundingClientRect();
      if (r.left < 0 || r.top < 0 || r.right > window.innerWidth || r.bottom > window.innerHeight) out.push(el.textContent || el.getAttribute('aria-label') || '?');
    }
    return out;
  });
}

/** Controls smaller than a fingertip (44 CSS px). */
export async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('nav.controls button')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width < 44 || r.height < 44;
      })
      .map((el) => el.textContent || el.getAttribute('aria-label') || '?'),
  );
}
