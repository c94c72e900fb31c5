// Saves docs/img/call.png (a two-person call) and docs/img/slides.png (a deck being presented)
// from the web client. Run: node web/screenshot.ts
import { waitFor } from '../common/testing.ts';
import { joinInBrowser, launchBrowser } from '../test/support/browser.ts';
import { makeDecks } from '../test/support/decks.ts';
import { createMeeting, startServer } from '../test/support/server.ts';

const server = await startServer({ port: 3199, env: { MEDIA_WORKERS: '1', MEDIA_PORT_BASE: '46900', MEDIA_RTC_MIN_PORT: '46910', MEDIA_RTC_MAX_PORT: '46990' } });
const browser = await launchBrowser();
try {
  const meeting = await createMeeting(server.url, { title: 'Weekly design review' });
  const alice = await joinInBrowser(browser.browser, server.url, meeting.id, 'Alice');
  const bob = await joinInBrowser(browser.browser, server.url, meeting.id, 'Bob');
  await waitFor(() => alice.evaluate(() => window.convene!.remoteTracks.size >= 2), { timeoutMs: 15_000, what: "Bob's media" });
  await bob.evaluate(() => window.convene!.sendChat('Hi Alice, can you see my camera?'));
  await alice.evaluate(() => window.convene!.sendChat('Yes, loud and clear.'));
  await alice.waitForFunction(() => [...document.querySelectorAll('video')].filter((v) => v.videoWidth > 0).length >= 2);
  await new Promise((r) => setTimeout(r, 1500));
  await alice.screenshot({ path: 'docs/img/call.png' });
  console.log('saved docs/img/call.png');

  // Bob presents a deck; Alice's view shows the slide stage.
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
  await alice.screenshot({ path: 'docs/img/slides.png' });
  console.log('saved docs/img/slides.png');
} finally {
  await browser.close();
  await server.stop();
}
