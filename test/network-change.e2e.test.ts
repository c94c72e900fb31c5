import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../common/testing.ts';
import { inboundStats, joinInBrowser } from './support/browser.ts';
import { cutMediaPath, type LabServer, launchBrowserIn, startServerIn } from './support/labServer.ts';
import { type LabHost, NetLab } from './support/netlab.ts';
import { createMeeting } from './support/server.ts';

// This engineer's lab addresses and ports; the server runs in its own namespace, so its ports
// meet nobody else's.
const LAB_POOL = '198.18.16.0/20';
const PORT = 31500;
/** Namespaces and nftables need root (CI runs as root), as the lab itself does. */
const root = process.getuid?.() === 0;

interface Seen {
  restarts: Array<{ transportId: string; direction: string; reason: string }>;
  reconnected: Array<{ rebuilt: boolean }>;
  /** Connection states of the transports, `direction:state`, for the failure message. */
  states: string[];
}

/** Starts recording the SDK's ICE restarts and seat recoveries in the page. */
const record = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { seen: Seen };
    w.seen = { restarts: [], reconnected: [], states: [] };
    window.convene!.on('iceRestart', (r) => w.seen.restarts.push(r));
    window.convene!.on('reconnected', (r) => w.seen.reconnected.push(r));
    for (const t of [window.convene!.transports.send, window.convene!.transports.recv]) t?.on('connectionstatechange', (state) => w.seen.states.push(`${t.direction}:${state}`));
  });
const seen = (page: Page) => page.evaluate(() => (window as unknown as { seen: Seen }).seen);
const transportIds = (page: Page) => page.evaluate(() => ({ send: window.convene!.transports.send?.id, recv: window.convene!.transports.recv?.id }));
const selfId = (page: Page) => page.evaluate(() => window.convene!.participantId);

/** Waits until `page` gets `source` from a participant with bytes (and frames, for video) growing from now on. */
async function flowing(page: Page, from: string, source: string) {
  const now = async () => (await inboundStats(page)).find((s) => s.participantId === from && s.source === source);
  const first = await waitFor(async () => {
    const s = await now();
    return s && s.bytesReceived > 0 ? s : undefined;
  }, { timeoutMs: 30_000, what: `${source} from ${from}` });
  return waitFor(async () => {
    const s = await now();
    if (!s || s.producerId !== first.producerId || s.bytesReceived <= first.bytesReceived) return undefined;
    return s.kind === 'video' && s.framesDecoded <= first.framesDecoded ? undefined : s;
  }, { timeoutMs: 30_000, what: `${source} from ${from} to keep flowing` });
}

describe.runIf(root)('a client whose network drops', () => {
  let lab: NetLab;
  let server: LabServer;
  let alice: LabHost;
  let serverHost: LabHost;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    lab = await NetLab.create({ pool: LAB_POOL });
    serverHost = await lab.addHost('server');
    alice = await lab.addHost('alice');
    const bobHost = await lab.addHost('bob');
    server = await startServerIn(serverHost, { port: PORT });
    browsers.push(await launchBrowserIn(alice, [server.url]), await launchBrowserIn(bobHost, [server.url]));
  });

  afterAll(async () => {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    await server?.stop();
    await lab?.destroy();
  });

  /** Alice and Bob in a call, each seeing the other; Alice's events recorded from here on. */
  async function call(title: string) {
    const meeting = await createMeeting(server.url, { title });
    const a = await joinInBrowser(browsers[0]!, server.url, meeting.id, 'Alice');
    const b = await joinInBrowser(browsers[1]!, server.url, meeting.id, 'Bob');
    const [aliceId, bobId] = [await selfId(a), await selfId(b)];
    await flowing(a, bobId, 'camera');
    await flowing(b, aliceId, 'camera');
    const before = await transportIds(a);
    expect(before.send && before.recv).toBeTruthy();
    await record(a);
    return { a, b, aliceId, bobId, before };
  }

  it('comes back by ICE restart on the same transports after its link is cut for 5 s', async () => {
    const { a, b, aliceId, bobId, before } = await call('link cut');

    await lab.cutLink(alice, 5);

    // Both of Alice's transports were restarted (ICE restart, not new transports)...
    const restarts = await waitFor(async () => {
      const { restarts } = await seen(a);
      const directions = new Set(restarts.map((r) => r.direction));
      return directions.has('send') && directions.has('recv') ? restarts : undefined;
    }, { timeoutMs: 40_000, what: "ICE restarts on both of Alice's transports" });
    const { reconnected, states } = await seen(a);
    console.log('ICE restarts after the cut:', JSON.stringify(restarts), 'seat recoveries:', JSON.stringify(reconnected), 'states:', states.join(' '));
    // ...and media flows again both ways on them.
    const toAlice = await flowing(a, bobId, 'camera');
    const fromAlice = await flowing(b, aliceId, 'camera');
    console.log(`after the cut: Alice decodes ${toAlice.framesDecoded} frames of Bob, Bob ${fromAlice.framesDecoded} of Alice`);
    expect(await transportIds(a)).toEqual(before);
    expect(restarts.every((r) => r.transportId === before.send || r.transportId === before.recv)).toBe(true);
    // If the socket dropped too, the seat came back without rebuilding media.
    expect((await seen(a)).reconnected.filter((r) => r.rebuilt)).toEqual([]);
    await a.context().close();
    await b.context().close();
  });

  // Chromium heals a loss of a few seconds on the same candidate pair by itself (a 5 s cut
  // shows `disconnected` for about two seconds); a longer one needs the restart.
  it('restarts ICE by itself on a transport whose ICE stays disconnected, while signalling stays up', async () => {
    const { a, b, aliceId, bobId, before } = await call('media cut');

    const restore = await cutMediaPath(alice, { address: serverHost.address, port: PORT });
    try {
      await new Promise((r) => setTimeout(r, 10_000));
    } finally {
      await restore();
    }

    const restarts = await waitFor(async () => {
      const { restarts } = await seen(a);
      return restarts.length > 0 ? restarts : undefined;
    }, { timeoutMs: 40_000, what: "an ICE restart on Alice's transports" }).catch(async (error: Error) => {
      throw new Error(`${error.message}; Alice saw ${JSON.stringify(await seen(a))}`);
    });
    const { states } = await seen(a);
    console.log('ICE restarts after the media cut:', JSON.stringify(restarts), 'states:', states.join(' '));
    expect(restarts.every((r) => r.reason === 'disconnected' || r.reason === 'failed')).toBe(true);
    // Every transport whose ICE went down was restarted.
    const down = new Set(states.filter((s) => s.endsWith(':disconnected') || s.endsWith(':failed')).map((s) => s.slice(0, s.indexOf(':'))));
    await waitFor(async () => {
      const restarted = new Set((await seen(a)).restarts.map((r) => r.direction));
      return [...down].every((d) => restarted.has(d));
    }, { timeoutMs: 20_000, what: 'a restart of every transport that went down' });
    const toAlice = await flowing(a, bobId, 'camera');
    const fromAlice = await flowing(b, aliceId, 'camera');
    console.log(`after the media cut: Alice decodes ${toAlice.framesDecoded} frames of Bob, Bob ${fromAlice.framesDecoded} of Alice`);
    expect(await transportIds(a)).toEqual(before);
    // The socket never dropped: no seat recovery, only the transports' own restarts.
    expect((await seen(a)).reconnected).toEqual([]);
    await a.context().close();
    await b.context().close();
  });
});
