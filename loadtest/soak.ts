/**
 * The `soak` profile: SOAK_MINUTES (default 30) of churn on the multi-process deployment (media,
 * meeting + files, api, a SIP gateway and two push processes on Redis): joins, leaves, chat,
 * mutes, screen shares (loadtest/soak/Churn.ts), a phone leg every SOAK_PHONE_EVERY_MIN (sipp),
 * a deck conversion every SOAK_DECK_EVERY_MIN. Every SOAK_SAMPLE_S every process's RSS, heap,
 * event-loop lag, handles, sockets and mediasoup objects, and the Redis keys, are read.
 *
 * Passes when memory is flat (least-squares slope of RSS and heap over the last three quarters of
 * the churn within the bounds below, per process) and nothing is left over: after the last leave
 * plus grace, no mediasoup object, no socket, and as many Redis keys as in the quiet moment
 * before the churn began (a first round of churn having made the keys a meeting keeps).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDecks } from '../test/support/decks.ts';
import { createMeeting } from '../test/support/server.ts';
import { writeTonePcap } from '../test/sip/pcap.ts';
import { freeMediaPort, runSipp } from '../test/sip/sipp.ts';
import { lines, stacked, writeChart } from './chart.ts';
import { machine, revision, writeSection } from './report.ts';
import { Churn } from './soak/Churn.ts';
import { type Reading, sample, slope } from './soak/Sampler.ts';
import { startCluster, type Target } from './target.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const SAMPLE_S = Number(process.env.SOAK_SAMPLE_S ?? 30);
const PHONE_EVERY_MIN = Number(process.env.SOAK_PHONE_EVERY_MIN ?? 5);
const DECK_EVERY_MIN = Number(process.env.SOAK_DECK_EVERY_MIN ?? 10);
const TICK_MS = 1000;
const MEETINGS = 3;
const MAX_PER_MEETING = 6;
/** Short timeouts, so that "after the last leave plus grace" is a minute, not the defaults' hours. */
const GRACE_ENV = { RECONNECT_GRACE_MS: '5000', ROUTER_IDLE_TIMEOUT_MS: '10000' };
const GRACE_MS = 30_000;
/** Bounds on the slopes, per process: a leak of this size shows within the half hour. */
const RSS_BOUND_MB_PER_MIN = 1;
const HEAP_BOUND_MB_PER_MIN = 0.5;
const API_KEY = { 'x-api-key': process.env.CONVENE_API_KEY ?? 'dev-api-key' };
const PORT_BASE = Number(process.env.LOADTEST_PORT_BASE_SOAK ?? 35800);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Extras {
  phoneLegs: number;
  decks: number;
  errors: string[];
}

async function phoneLeg(pin: string, sipPort: number, pcap: string, extras: Extras): Promise<void> {
  const result = await runSipp({ scenario: 'uac-pin', service: pin, target: `127.0.0.1:${sipPort}`, mediaPort: await freeMediaPort(), pcaps: { 'audio.pcap': pcap }, keys: { audio_ms: '5000' }, timeoutMs: 20_000 });
  if (result.code === 0) extras.phoneLegs++;
  else extras.errors.push(`phone leg: sipp exited with ${result.code}: ${(result.errors || result.stderr).slice(0, 300)}`);
}

async function deck(target: Target, meetingId: string, pdf: Buffer, extras: Extras): Promise<void> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(pdf)]), 'soak.pdf');
  const res = await fetch(`${target.apiUrl}/v1/meetings/${meetingId}/files`, { method: 'POST', headers: API_KEY, body: form });
  const file = (await res.json()) as { id?: string; status?: string };
  if (!res.ok || !file.id) {
    extras.errors.push(`deck upload: ${res.status} ${JSON.stringify(file)}`);
    return;
  }
  const url = `${target.apiUrl}/v1/meetings/${meetingId}/files/${file.id}`;
  for (let i = 0; i < 240; i++) {
    const status = ((await (await fetch(url, { headers: API_KEY })).json()) as { status: string }).status;
    if (status === 'ready') break;
    if (status === 'failed' || status === 'partial' || i === 239) {
      extras.errors.push(`deck conversion ended ${status}`);
      break;
    }
    await sleep(500);
  }
  // Deleted again, so that the files a soak makes do not count as growth.
  const deleted = await fetch(url, { method: 'DELETE', headers: API_KEY });
  if (!deleted.ok) extras.errors.push(`deck delete: ${deleted.status}`);
  else extras.decks++;
}

export async function profile(dir: string): Promise<string[]> {
  const sipPort = PORT_BASE + 5;
  const target = await startCluster({ portBase: PORT_BASE, pushNodes: 2, sipPort, env: GRACE_ENV });
  const readings: Reading[] = [];
  const extras: Extras = { phoneLegs: 0, decks: 0, errors: [] };
  const work = mkdtempSync(path.join(os.tmpdir(), 'convene-soak-'));
  let churn: Churn | undefined;
  const warmErrors: string[] = [];
  let before: Reading | undefined;
  let after: Reading | undefined;
  try {
    const pcap = path.join(work, 'tone.pcap');
    writeTonePcap(pcap, { frequency: 1000, durationMs: 6000, codec: 'PCMA' });
    const { pdf } = makeDecks(2);
    const meetings = await Promise.all(Array.from({ length: MEETINGS }, (_, i) => createMeeting(target.apiUrl, { title: `soak ${i + 1}` })));
    const startedAt = Date.now();

    // A first minute of churn makes what a meeting keeps (its chat, its placement); the quiet
    // moment after it is what the end is compared with.
    const warm = new Churn(target.apiUrl, target.pushUrls, meetings.map((m) => m.id), MAX_PER_MEETING);
    for (let t = 0; t < 60; t++) {
      await warm.tick();
      await sleep(TICK_MS);
    }
    // One deck conversion too: the first makes the conversion queue's own keys (its event
    // stream, its job counter), which stay for the deployment's life and are not leftovers.
    await deck(target, meetings[1]!.id, pdf, extras);
    extras.decks = 0;
    await warm.drain();
    warmErrors.push(...warm.counts.errors);
    await sleep(GRACE_MS);
    before = await sample(target, startedAt, true);
    readings.push(before);

    churn = new Churn(target.apiUrl, target.pushUrls, meetings.map((m) => m.id), MAX_PER_MEETING);
    const churnStart = Date.now();
    let nextSample = churnStart + SAMPLE_S * 1000;
    let nextPhone = churnStart + 30_000;
    let nextDeck = churnStart + 60_000;
    const side: Array<Promise<void>> = [];
    while (Date.now() - churnStart < MINUTES * 60_000) {
      await churn.tick();
      const now = Date.now();
      if (now >= nextPhone) {
        side.push(phoneLeg(meetings[0]!.pin, sipPort, pcap, extras).catch((error: unknown) => void extras.errors.push(`phone leg: ${String(error)}`)));
        nextPhone += PHONE_EVERY_MIN * 60_000;
      }
      if (now >= nextDeck) {
        side.push(deck(target, meetings[1]!.id, pdf, extras).catch((error: unknown) => void extras.errors.push(`deck: ${String(error)}`)));
        nextDeck += DECK_EVERY_MIN * 60_000;
      }
      if (now >= nextSample) {
        const reading = await sample(target, startedAt);
        readings.push(reading);
        console.log(progress(reading));
        writeFileSync(path.join(dir, 'soak.json'), JSON.stringify({ readings, churn: churn.counts, extras }, null, 1));
        nextSample += SAMPLE_S * 1000;
      }
      await sleep(TICK_MS);
    }
    await Promise.all(side);
    await churn.drain();
    await sleep(GRACE_MS);
    after = await sample(target, startedAt, true);
    readings.push(after);
    writeFileSync(path.join(dir, 'soak.json'), JSON.stringify({ readings, churn: churn.counts, extras }, null, 1));
  } finally {
    await target.stop();
  }
  extras.errors.push(...warmErrors.map((e) => `warm-up: ${e}`));
  return document(target, readings, before!, after!, churn!, extras);
}

function progress(r: Reading): string {
  const parts = Object.entries(r.processes).map(([name, p]) => `${name} ${p.rssMb.toFixed(0)}/${p.heapMb.toFixed(0)}/${p.heapCommittedMb.toFixed(0)} MB`);
  return `minute ${r.minute.toFixed(1)}: ${parts.join(', ')}, ${r.redisKeys} keys`;
}

interface Verdict {
  name: string;
  rssSlope: number;
  heapSlope: number;
  handlesSlope: number;
  lagMaxMs: number;
}

async function document(target: Target, readings: Reading[], before: Reading, after: Reading, churn: Churn, extras: Extras): Promise<string[]> {
  const churnReadings = readings.slice(1, -1);
  // The first quarter is warm-up (code compiled, pools filled), not growth.
  const steady = churnReadings.slice(Math.floor(churnReadings.length / 4));
  const verdicts: Verdict[] = target.processes.map(({ name }) => ({
    name,
    rssSlope: slope(steady.map((r) => [r.minute, r.processes[name]!.rssMb])),
    heapSlope: slope(steady.map((r) => [r.minute, r.processes[name]!.heapMb])),
    handlesSlope: slope(steady.map((r) => [r.minute, r.processes[name]!.handles])),
    lagMaxMs: Math.max(...churnReadings.map((r) => r.processes[name]!.lagP99Ms)),
  }));
  const problems: string[] = [];
  for (const v of verdicts) {
    if (v.rssSlope > RSS_BOUND_MB_PER_MIN) problems.push(`${v.name}: RSS grows ${v.rssSlope.toFixed(2)} MB/min (bound ${RSS_BOUND_MB_PER_MIN})`);
    if (v.heapSlope > HEAP_BOUND_MB_PER_MIN) problems.push(`${v.name}: heap grows ${v.heapSlope.toFixed(2)} MB/min (bound ${HEAP_BOUND_MB_PER_MIN})`);
  }
  const leftovers: string[] = [];
  for (const [name, p] of Object.entries(after.processes)) {
    if (p.sockets) leftovers.push(`${name}: ${p.sockets} sockets`);
    for (const [kind, n] of Object.entries(p.mediasoup ?? {})) if (n > 0) leftovers.push(`${name}: ${n} mediasoup ${kind}`);
  }
  const had = new Set(before.keyNames ?? []);
  const gone = new Set(after.keyNames ?? []);
  const added = (after.keyNames ?? []).filter((k) => !had.has(k));
  const removed = (before.keyNames ?? []).filter((k) => !gone.has(k));
  if (added.length > 0) leftovers.push(`Redis keys left that were not there before: ${added.join(', ')}`);
  if (removed.length > 0) console.log(`Redis keys there before the churn and gone after it: ${removed.join(', ')}`);
  problems.push(...leftovers, ...extras.errors.map((e) => `side load: ${e}`), ...churn.counts.errors.map((e) => `churn: ${e}`));

  // The full half hour is "Soak"; a shorter run gets a section (and a chart) of its own beside it.
  const heading = MINUTES >= 30 ? 'Soak' : `Soak, ${MINUTES} minutes`;
  const chart = await writeChart(
    MINUTES >= 30 ? 'soak' : `soak-${MINUTES}min`,
    `Memory over the soak (${MINUTES} min)`,
    stacked([
      lines(
        readings.flatMap((r) => Object.entries(r.processes).map(([name, p]) => ({ minute: Number(r.minute.toFixed(2)), process: name, mb: Number(p.rssMb.toFixed(1)) }))),
        { x: 'minute', y: 'mb', series: 'process', xTitle: 'minutes', yTitle: 'RSS (MB)' },
      ),
      lines(
        readings.flatMap((r) => Object.entries(r.processes).map(([name, p]) => ({ minute: Number(r.minute.toFixed(2)), process: name, mb: Number(p.heapMb.toFixed(1)) }))),
        { x: 'minute', y: 'mb', series: 'process', xTitle: 'minutes', yTitle: 'V8 heap used (MB)' },
      ),
    ]),
  );
  const c = churn.counts;
  const first = churnReadings[0] ?? before;
  writeSection(
    heading,
    `## ${heading}

Command: \`SOAK_MINUTES=${MINUTES} npm run loadtest -- soak\` (${new Date().toISOString().slice(0, 10)}, revision ${revision()}; ${machine()}).
${MINUTES} minutes of churn on the multi-process deployment (media, meeting + files, api, a SIP gateway and
two push processes on Redis), after one minute of warm-up churn (and one deck conversion) and a quiet moment: in ${MEETINGS} meetings of up
to ${MAX_PER_MEETING}, every second someone joins (through either push process, publishing a microphone and
consuming up to 3 others) or leaves (a quarter of them by vanishing, left to the reconnect grace), and
someone chats, mutes or unmutes, or starts or stops a screen share; a phone leg (sipp, PIN, 5 s of
audio) every ${PHONE_EVERY_MIN} min and a deck conversion (PDF upload, converted, deleted) every ${DECK_EVERY_MIN} min.
Clients carry no real media (producers without RTP), so this soaks signalling, state and mediasoup
object lifetimes, not packet forwarding. Reconnect grace 5 s and router idle timeout 10 s; sampled
every ${SAMPLE_S} s.

What happened: ${c.joins} joins, ${c.leaves} leaves and ${c.vanished} vanished, ${c.chats} chat messages, ${c.mutes} mutes or unmutes,
${c.screenShares} screen shares, ${c.consumers} consumers, ${extras.phoneLegs} phone legs, ${extras.decks} deck conversions; ${c.errors.length + extras.errors.length} errors.

| process | RSS first → last (MB) | RSS slope (MB/min, bound ${RSS_BOUND_MB_PER_MIN}) | heap first → last (MB) | heap slope (MB/min, bound ${HEAP_BOUND_MB_PER_MIN}) | heap committed first → last, peak (MB) | handles slope (/min) | event-loop lag p99, worst (ms) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${verdicts
  .map((v) => {
    const a = first.processes[v.name]!;
    const b = after.processes[v.name]!;
    const committedPeak = Math.max(...churnReadings.map((r) => r.processes[v.name]?.heapCommittedMb ?? 0));
    return `| ${v.name} | ${a.rssMb.toFixed(0)} → ${b.rssMb.toFixed(0)} | ${v.rssSlope.toFixed(2)} | ${a.heapMb.toFixed(0)} → ${b.heapMb.toFixed(0)} | ${v.heapSlope.toFixed(2)} | ${a.heapCommittedMb.toFixed(0)} → ${b.heapCommittedMb.toFixed(0)}, ${committedPeak.toFixed(0)} | ${v.handlesSlope.toFixed(2)} | ${v.lagMaxMs.toFixed(0)} |`;
  })
  .join('\n')}

Slopes are least-squares fits over the last three quarters of the churn (the first quarter is
warm-up). After the last leave plus ${GRACE_MS / 1000} s: ${leftovers.length === 0 ? 'no socket, no mediasoup router, transport, producer or consumer, and the same number of Redis keys as before the churn' : leftovers.join('; ')} (Redis keys ${before.redisKeys} before, ${after.redisKeys} after).
**${problems.length === 0 ? 'Passed' : `Failed: ${problems.join('; ')}`}.**

${chart}
`,
  );
  return problems;
}
