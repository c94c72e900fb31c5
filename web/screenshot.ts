// Regenerates the pictures in docs/img from real calls in the web client: desktop, host menu,
// phone portrait and landscape, a 9-person grid, the Chinese interface and a presented deck.
// Run: npm run screenshots (builds the client first).
import type { Page } from 'playwright-core';
import { waitFor } from '../common/testing.ts';
import { startTestBot, type TestBot } from '../test/support/bots.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { makeDecks } from '../test/support/decks.ts';
import { createMeeting, startServer } from '../test/support/server.ts';
import { DESKTOP, joinByUi, openPage, PHONE, tileOf } from '../test/support/webui.ts';

const settle = (ms = 1500) => new Promise((r) => setTimeout(r, ms));
const shot = async (page: Page, name: string) => {
  await page.screenshot({ path: `docs/img/${name}.png` });
  console.log(`saved docs/img/${name}.png`);
};
const videosPlaying = (page: Page, n: number) =>
  page.waitForFunction((count) => [...document.querySelectorAll('video')].filter((v) => v.videoWidth > 0).length >= count, n, { timeout: 20_000 });

const server = await startServer({ port: 3199, env: { MEDIA_WORKERS: '1', MEDIA_PORT_BASE: '46900', MEDIA_RTC_MIN_PORT: '46910', MEDIA_RTC_MAX_PORT: '46990' } });
const browser = await launchBrowser();
const bots: TestBot[] = [];
try {
  const meeting = await createMeeting(server.url, { title: 'Weekly design review' });

  // The prejoin screen, in Chinese (as a browser set to Chinese shows it).
  const lin = await openPage(browser.browser, `${server.url}/m/${meeting.id}`, 'Lin', { ...DESKTOP, locale: 'zh-CN' });
  await lin.getByLabel('您的名字').fill('林晓');
  await videosPlaying(lin, 1);
  await settle(800);
  await shot(lin, 'prejoin-zh');

  const alice = await joinByUi(browser.browser, server.url, meeting.id, 'Alice Chen', DESKTOP, `?hostKey=${meeting.hostKey}`);
  const bob = await joinByUi(browser.browser, server.url, meeting.id, 'Bob Martin');
  await videosPlaying(alice, 2);
  await bob.evaluate(() => window.convene!.sendChat('Hi Alice, can you see my camera?'));
  await alice.evaluate(() => window.convene!.sendChat('Yes, loud and clear.'));
  await alice.getByRole('button', { name: 'Chat' }).click();
  await settle();
  await shot(alice, 'call');
  await alice.getByRole('button', { name: 'Chat' }).click();

  // The host's tools on a guest's tile; Bob has a question.
  await bob.getByRole('button', { name: 'Reactions' }).click();
  await bob.getByRole('menuitem', { name: 'Raise hand' }).click();
  await tileOf(alice, 'Bob Martin').getByRole('img', { name: 'Bob Martin raised a hand' }).waitFor();
  await tileOf(alice, 'Bob Martin').getByRole('button', { name: 'Host tools for Bob Martin' }).click();
  await settle(500);
  await shot(alice, 'host-menu');
  await alice.getByRole('menuitem', { name: "Lower Bob Martin's hand" }).click();

  // A phone in WeChat, upright and on its side.
  const wei = await joinByUi(browser.browser, server.url, meeting.id, 'Wei', PHONE);
  await videosPlaying(wei, 3);
  await settle();
  await shot(wei, 'phone-portrait');
  await wei.setViewportSize({ width: 844, height: 390 });
  await settle();
  await shot(wei, 'phone-landscape');

  // The Chinese call screen.
  await lin.getByRole('button', { name: '加入会议' }).click();
  await lin.getByRole('button', { name: '离开' }).waitFor();
  await videosPlaying(lin, 4);
  await settle();
  await shot(lin, 'call-zh');
  // Leaving (not just closing) frees their seats now rather than after the grace period.
  for (const page of [lin, wei]) {
    await page.getByRole('button', { name: /^(Leave|离开)$/ }).click();
    await page.getByRole('button', { name: /^(Rejoin|重新加入)$/ }).waitFor();
    await page.context().close();
  }

  // Nine people: two cameras and seven voices (bots publish only a microphone).
  for (const name of ['Carla Díaz', '王芳', 'Dmitri Petrov', 'Emma Wilson', '李娜', 'Farid Haddad', 'Grace Kim']) {
    bots.push(await startTestBot({ baseUrl: server.url, meetingId: meeting.id, name }));
  }
  await waitFor(() => alice.evaluate(() => document.querySelectorAll('figure.tile').length >= 9), { timeoutMs: 20_000, what: 'nine tiles' });
  await settle(2500);
  await shot(alice, 'grid-9');
  for (const bot of bots.splice(0)) await bot.stop();

  // Bob presents a deck: the slide takes the stage, people move to the strip.
  const { pptx } = makeDecks(3);
  await bob.evaluate(async (bytes) => {
    const client = window.convene!;
    const file = await client.uploadFile(new Blob([new Uint8Array(bytes)]), 'Design review.pptx');
    await new Promise<void>((resolve) => client.on('fileUpdated', (f) => f.id === file.id && f.status === 'ready' && resolve()));
    await client.present(file.id, 2);
  }, [...pptx]);
  await alice.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('#slide');
    return img?.dataset.page === '2' && img.complete && img.naturalWidth > 0;
  });
  await settle(800);
  await shot(alice, 'slides');
} finally {
  for (const bot of bots) await bot.stop();
  await browser.close();
  await server.stop();
}
