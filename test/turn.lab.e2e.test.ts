/**
 * TURN in the network lab (needs root: network namespaces): coturn on UDP 3478 and TLS 443 in
 * its own host, the server in another, browsers in others, each with a real 198.18/15 address.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TurnCredentials } from '../common/TurnCredentials.ts';
import { waitFor } from '../common/testing.ts';
import { CHROMIUM_PATH, joinInBrowser, launchBrowser, type TestBrowser } from './support/browser.ts';
import { type RunningCoturn, startCoturn } from './support/coturn.ts';
import { expectFlowing, participantIdOf, selectedPath } from './support/lab.ts';
import { type LabHost, NetLab } from './support/netlab.ts';
import { api, createMeeting, type RunningServer, startServer } from './support/server.ts';
import { turnAllocate } from './support/turnClient.ts';

const root = process.getuid?.() === 0;
const SECRET = 'lab-turn-shared-secret-0123456789';
const TTL_SECONDS = 600;
// Ports inside the namespaces are the lab's own: nothing else binds there.
const PORT = 30_100;
/** The media node's WebRtcServer port in the lab (the default MEDIA_PORT_BASE, one worker). */
const MEDIA_PORT = 40_000;
/** A second server whose TURN credentials outlive a join by seconds only. */
const BRIEF_PORT = 30_101;
const BRIEF_TTL_SECONDS = 8;

interface IceServerAnswer {
  urls: string[];
  username?: string;
  credential?: string;
}

describe.runIf(root)('TURN in the network lab', () => {
  let lab: NetLab;
  let sfu: LabHost;
  let turnHost: LabHost;
  let coturn: RunningCoturn;
  let server: RunningServer;
  let briefServer: RunningServer;
  const browsers: TestBrowser[] = [];

  beforeAll(async () => {
    lab = await NetLab.create({ pool: '198.18.0.0/20' });
    sfu = await lab.addHost('sfu');
    turnHost = await lab.addHost('turn');
    coturn = await startCoturn(turnHost, SECRET);
    server = await startServer({
      port: PORT,
      host: sfu.address,
      spawn: sfu.spawn,
      env: {
        MEDIA_WORKERS: '1',
        MEDIA_ANNOUNCED_ADDRESS: sfu.address,
        TURN_SECRET: SECRET,
        TURN_URLS: coturn.urls.join(','),
        TURN_TTL_SECONDS: String(TTL_SECONDS),
      },
    });
    // Started here, before any browser loads the machine.
    const briefSfu = await lab.addHost('briefsfu');
    briefServer = await startServer({
      port: BRIEF_PORT,
      host: briefSfu.address,
      spawn: briefSfu.spawn,
      env: {
        MEDIA_WORKERS: '1',
        MEDIA_ANNOUNCED_ADDRESS: briefSfu.address,
        TURN_SECRET: SECRET,
        TURN_URLS: coturn.urls.join(','),
        TURN_TTL_SECONDS: String(BRIEF_TTL_SECONDS),
      },
    });
  }, 90_000);

  // A test's calls end with it: browsers left sending video would load the machine under the next.
  afterEach(async () => {
    for (const browser of browsers.splice(0)) await browser.close().catch(() => undefined);
  });

  afterAll(async () => {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    await briefServer?.stop();
    await server?.stop();
    await coturn?.stop();
    await lab?.destroy();
  });

  async function iceServersOfJoin(): Promise<{ participantId: string; iceServers: IceServerAnswer[] }> {
    const meeting = await createMeeting(server.url);
    const { status, body } = await api<{ participantId: string; iceServers: IceServerAnswer[] }>(server.url, 'POST', `/v1/meetings/${meeting.id}/join`, { name: 'Probe' });
    expect(status).toBe(200);
    return body;
  }

  /** A Chromium in `host` for the site at `siteUrl` (plain http on a lab address: camera allowed, the lab's TURN certificate accepted), closed after the test. */
  async function browserIn(host: LabHost, siteUrl: string) {
    const args = [`--unsafely-treat-insecure-origin-as-secure=${siteUrl}`, '--ignore-certificate-errors'];
    const launched = await launchBrowser({ executablePath: host.wrapper(CHROMIUM_PATH), args });
    browsers.push(launched);
    return launched.browser;
  }

  /**
   * A relay-only peer that may reach TURN over UDP alone: with TCP and TLS relays also open, ICE
   * may nominate either, and the TLS path has a test of its own.
   */
  const turnOverUdpOnly = (host: LabHost) =>
    lab.blockTcpTo(host, [
      { address: turnHost.address, port: 443 },
      { address: turnHost.address, port: 3478 },
    ]);

  it('issues TURN credentials that expire as configured, which coturn accepts over UDP and TLS', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { participantId, iceServers } = await iceServersOfJoin();
    const after = Math.ceil(Date.now() / 1000);
    const turn = iceServers.find((s) => s.urls.some((u) => u.startsWith('turn')));
    expect(turn?.urls).toEqual(coturn.urls);
    const [expiry, user] = (turn?.username ?? '').split(':');
    expect(user).toBe(participantId);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + TTL_SECONDS);
    expect(Number(expiry)).toBeLessThanOrEqual(after + TTL_SECONDS);
    for (const [transport, port] of [
      ['udp', 3478],
      ['tls', 443],
    ] as const) {
      const answer = await turnAllocate({ host: turnHost.address, port, transport, username: turn!.username!, password: turn!.credential! });
      expect(answer, `${transport} allocate`).toMatchObject({ outcome: 'success' });
      expect(answer.relayed).toMatch(new RegExp(`^${turnHost.address.replaceAll('.', '\\.')}:\\d+$`));
    }
  });

  it('has coturn refuse a forged credential and an expired one', async () => {
    const { iceServers } = await iceServersOfJoin();
    const turn = iceServers.find((s) => s.username)!;
    // Forged: a later expiry with the password of the issued one, and a password under another secret.
    const [expiry, user] = turn.username!.split(':');
    const stretched = `${Number(expiry) + 86_400}:${user}`;
    const otherSecret = new TurnCredentials({ secret: 'not-the-shared-secret-at-all', urls: coturn.urls, ttlSeconds: 600 }).credential('mallory');
    // Expired: issued by the same code and secret, with a clock an hour behind.
    const expired = new TurnCredentials({ secret: SECRET, urls: coturn.urls, ttlSeconds: 600 }, () => Date.now() - 3600_000).credential('late');
    for (const [transport, port] of [
      ['udp', 3478],
      ['tls', 443],
    ] as const) {
      const attempts = {
        stretched: await turnAllocate({ host: turnHost.address, port, transport, username: stretched, password: turn.credential! }),
        otherSecret: await turnAllocate({ host: turnHost.address, port, transport, username: otherSecret.username, password: otherSecret.credential }),
        expired: await turnAllocate({ host: turnHost.address, port, transport, username: expired.username, password: expired.credential }),
      };
      for (const [what, answer] of Object.entries(attempts)) expect(answer, `${what} over ${transport}`).toMatchObject({ outcome: 'error', errorCode: 401 });
    }
  });

  it('has a credential refused once its TTL has passed', async () => {
    const shortLived = new TurnCredentials({ secret: SECRET, urls: coturn.urls, ttlSeconds: 2 }).credential('brief');
    const allocate = () => turnAllocate({ host: turnHost.address, port: 3478, transport: 'udp', username: shortLived.username, password: shortLived.credential });
    expect(await allocate()).toMatchObject({ outcome: 'success' });
    const refused = await waitFor(async () => ((await allocate()).errorCode === 401 ? true : undefined), { timeoutMs: 15_000, intervalMs: 500, what: 'coturn to refuse the expired credential' });
    expect(refused).toBe(true);
  });

  it('lets a Chromium that may only reach TCP 443 of the TURN server join through TURN over TLS, media both ways', async () => {
    const walled = await lab.addHost('walled');
    const open = await lab.addHost('open');
    // No UDP at all; TCP only to the site (signalling) and to TURN on 443: no ICE-TCP to the SFU either.
    await lab.allowOnlyTcp(walled, [
      { address: sfu.address, port: PORT },
      { address: turnHost.address, port: 443 },
    ]);
    const walledBrowser = await browserIn(walled, server.url);
    const openBrowser = await browserIn(open, server.url);

    const meeting = await createMeeting(server.url, { title: 'Firewalled' });
    const alice: Page = await joinInBrowser(walledBrowser, server.url, meeting.id, 'Walled Alice');
    const bob: Page = await joinInBrowser(openBrowser, server.url, meeting.id, 'Open Bob');
    const [aliceId, bobId] = [await participantIdOf(alice), await participantIdOf(bob)];
    await expectFlowing(alice, bobId, 'mic');
    await expectFlowing(alice, bobId, 'camera');
    await expectFlowing(bob, aliceId, 'mic');
    await expectFlowing(bob, aliceId, 'camera');

    for (const direction of ['send', 'recv'] as const) {
      const path = await waitFor(() => selectedPath(alice, direction), { timeoutMs: 10_000, what: `the ${direction} transport's selected pair` });
      console.info(`walled ${direction} transport: ${JSON.stringify(path)}`);
      expect(path, `walled ${direction}`).toMatchObject({ localType: 'relay', relayProtocol: 'tls' });
      expect(path.remoteAddress.startsWith(`${sfu.address}:`)).toBe(true);
    }
    // The open peer, for contrast, goes straight to the SFU.
    const direct = await waitFor(() => selectedPath(bob, 'send'), { timeoutMs: 10_000, what: "the open peer's selected pair" });
    expect(direct).toMatchObject({ localType: 'host', localProtocol: 'udp', localAddress: open.address });
  });

  it("takes ICE-TCP when UDP is blocked, and TURN over UDP when the client asks for relay only (the SDK's iceTransportPolicy)", async () => {
    const tcpOnly = await lab.addHost('tcponly');
    const relayed = await lab.addHost('relayed');
    // UDP blocked, and TCP only to the site and the media node's WebRtcServer (MEDIA_PORT_BASE,
    // one worker): with TURN over TCP or TLS also open, ICE may nominate a relay instead (seen
    // once in a full run), and those paths have tests of their own.
    await lab.allowOnlyTcp(tcpOnly, [
      { address: sfu.address, port: PORT },
      { address: sfu.address, port: MEDIA_PORT },
    ]);
    await turnOverUdpOnly(relayed);
    const tcpBrowser = await browserIn(tcpOnly, server.url);
    const relayBrowser = await browserIn(relayed, server.url);

    const meeting = await createMeeting(server.url, { title: 'Paths' });
    const carol = await joinInBrowser(tcpBrowser, server.url, meeting.id, 'TCP Carol');
    const dave = await joinInBrowser(relayBrowser, server.url, meeting.id, 'Relayed Dave', '&relay=1');
    const [carolId, daveId] = [await participantIdOf(carol), await participantIdOf(dave)];
    await expectFlowing(carol, daveId, 'camera');
    await expectFlowing(dave, carolId, 'camera');
    await expectFlowing(carol, daveId, 'mic');
    await expectFlowing(dave, carolId, 'mic');

    for (const direction of ['send', 'recv'] as const) {
      const tcp = await waitFor(() => selectedPath(carol, direction), { timeoutMs: 10_000, what: `the TCP peer's ${direction} pair` });
      console.info(`udp-blocked ${direction} transport: ${JSON.stringify(tcp)}`);
      // An active ICE-TCP candidate (port 9) is learned back as peer-reflexive once it connects.
      expect(tcp, `udp-blocked ${direction}`).toMatchObject({ localType: expect.stringMatching(/^(host|prflx)$/), localProtocol: 'tcp', localAddress: tcpOnly.address });
      expect(tcp.remoteAddress.startsWith(`${sfu.address}:`)).toBe(true);
      const relay = await waitFor(() => selectedPath(dave, direction), { timeoutMs: 10_000, what: `the relay-only peer's ${direction} pair` });
      console.info(`relay-only ${direction} transport: ${JSON.stringify(relay)}`);
      expect(relay, `relay-only ${direction}`).toMatchObject({ localType: 'relay', relayProtocol: 'udp' });
    }
  });

  it('keeps a relay-only client on TURN past its credential: an ICE restart allocates anew with a fresh credential from the server', async () => {
    // A long call outlives the credential of its HTTP join; coturn then refuses every request
    // made with it. The ICE restart's answer carries a fresh one, which the new gathering uses.
    const expiring = await lab.addHost('expiring');
    const peer = await lab.addHost('peer');
    await turnOverUdpOnly(expiring);
    const expiringBrowser = await browserIn(expiring, briefServer.url);
    const peerBrowser = await browserIn(peer, briefServer.url);

    const meeting = await createMeeting(briefServer.url, { title: 'Long call' });
    const joinedAt = Date.now();
    const erin = await joinInBrowser(expiringBrowser, briefServer.url, meeting.id, 'Relayed Erin', '&relay=1');
    const frank = await joinInBrowser(peerBrowser, briefServer.url, meeting.id, 'Open Frank');
    const [erinId, frankId] = [await participantIdOf(erin), await participantIdOf(frank)];
    await expectFlowing(erin, frankId, 'camera');
    await expectFlowing(frank, erinId, 'camera');
    const before = {
      send: await waitFor(() => selectedPath(erin, 'send'), { timeoutMs: 10_000, what: "Erin's send pair" }),
      recv: await waitFor(() => selectedPath(erin, 'recv'), { timeoutMs: 10_000, what: "Erin's receive pair" }),
    };
    expect(before.send).toMatchObject({ localType: 'relay' });
    expect(before.recv).toMatchObject({ localType: 'relay' });

    // Past the join's credential, as after hours of a call with the default TTL.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, joinedAt + (BRIEF_TTL_SECONDS + 2) * 1000 - Date.now())));
    await erin.evaluate(() => {
      const w = window as unknown as { restarts: string[] };
      w.restarts = [];
      window.convene!.on('iceRestart', (r) => w.restarts.push(r.direction));
      // What the SDK does when the host's network changes: an ICE restart on both transports.
      window.dispatchEvent(new Event('online'));
    });
    await waitFor(async () => {
      const directions = await erin.evaluate(() => (window as unknown as { restarts: string[] }).restarts);
      return directions.includes('send') && directions.includes('recv') ? true : undefined;
    }, { timeoutMs: 20_000, what: "ICE restarts on both of Erin's transports" });
    // Each transport is on a new TURN allocation: a relayed port of its own, granted to the new credential.
    for (const direction of ['send', 'recv'] as const) {
      const after = await waitFor(async () => {
        const path = await selectedPath(erin, direction);
        return path?.localType === 'relay' && path.localPort !== before[direction].localPort ? path : undefined;
      }, { timeoutMs: 30_000, what: `Erin's ${direction} transport on a new TURN allocation` });
      console.info(`after the credential expired, ${direction}: ${JSON.stringify(before[direction])} -> ${JSON.stringify(after)}`);
    }
    await expectFlowing(erin, frankId, 'camera');
    await expectFlowing(frank, erinId, 'camera');
    await expectFlowing(frank, erinId, 'mic');
  });
});
