// Saves docs/img/call.png: the web client in a two-person call. Run: npx tsx web/screenshot.ts
import { waitFor } from '../common/testing.js';
import { joinInBrowser, launchBrowser } from '../test/support/browser.js';
import { createMeeting, startServer } from '../test/support/server.js';

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
} finally {
  await browser.close();
  await server.stop();
}
