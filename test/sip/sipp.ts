// Runs sipp scenarios (test/sip/scenarios) as SIP callers, and sends raw or flooding SIP traffic.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { header, parseSipMessage, randomToken, SipStreamFramer, tagOf } from './sipMessage.ts';

export const SIPP = process.env.SIPP_PATH ?? 'sipp';
/** The gateway's SIP port in the end-to-end tests; SIP_E2E_PORT_OFFSET moves it (shared machines). */
export const DEFAULT_SIP_PORT = 5070 + Number(process.env.SIP_E2E_PORT_OFFSET ?? 0);
export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
/** The pcaps that come with Debian's sip-tester (g711a.pcap, dtmf_2833_<digit|pound|star>.pcap). */
export const SIPP_PCAP_DIR = '/usr/share/sip-tester';

export type ScenarioName = 'uac-pin' | 'uac-ivr-dtmf' | 'uac-ivr-info' | 'uac-wrong-pin' | 'uac-wait-bye' | 'uac-remote-bye';

/** The -key values each scenario needs, with the defaults runSipp passes when keys leaves them out. */
export const SCENARIO_KEYS: Record<ScenarioName, Record<string, string>> = {
  'uac-pin': { codec_pts: '8 0', audio_ms: '3000' },
  'uac-ivr-dtmf': { codec_pts: '8 0', pin_ms: '3000', audio_ms: '3000' },
  'uac-ivr-info': { codec_pts: '8 0', digits: '#', info_gap_ms: '150', audio_ms: '3000' },
  'uac-wrong-pin': { codec_pts: '8 0' },
  'uac-wait-bye': { codec_pts: '8 0' },
  'uac-remote-bye': { codec_pts: '8 0' },
};

/** The pcaps (under pcap/ next to the scenario) each scenario plays. */
export const SCENARIO_PCAPS: Record<ScenarioName, string[]> = {
  'uac-pin': ['audio.pcap'],
  'uac-ivr-dtmf': ['pin.pcap', 'audio.pcap'],
  'uac-ivr-info': ['audio.pcap'],
  'uac-wrong-pin': ['pin.pcap'],
  'uac-wait-bye': [],
  'uac-remote-bye': ['audio.pcap'],
};

export function sippAvailable(): boolean {
  const r = spawnSync(SIPP, ['-v'], { timeout: 5000, stdio: 'pipe' });
  return !r.error && /SIPp v\d/.test(`${r.stdout}${r.stderr}`);
}

export interface SippOptions {
  /** A scenario of test/sip/scenarios by name, or a path to any scenario file. */
  scenario: ScenarioName | string;
  /** host:port of the SIP peer (default 127.0.0.1:5070, moved by SIP_E2E_PORT_OFFSET). */
  target?: string;
  /** u1: UDP, one socket per call; t1: TCP, one connection per call. */
  transport?: 'u1' | 't1';
  /** Request-URI user part: the PIN, or 'conference' for the IVR (-s). */
  service?: string;
  /** sipp's SIP port (-p); default a free one (sipp itself would take 5060, and fail if busy). */
  localPort?: number;
  /** sipp's RTP port (-mp): the SDP offers it, RTP leaves from it, sipp binds it and mediaPort + 2
   * (video); give each concurrent caller its own (freeMediaPort). Default 6000. */
  mediaPort?: number;
  /** sipp's UDP control socket (-cp, bound on 127.0.0.1); default a free port. */
  controlPort?: number;
  /** -key values, on top of the scenario's defaults (SCENARIO_KEYS). */
  keys?: Record<string, string>;
  /** -set values (globals the scenario declares). */
  set?: Record<string, string>;
  /** pcap files to link as pcap/<name> next to the scenario, e.g. { 'audio.pcap': '/tmp/tone.pcap' }. */
  pcaps?: Record<string, string>;
  /** Lines of an injection file (-inf); the first one is the order, e.g. ['SEQUENTIAL', '123456789;2000']. */
  inf?: string[];
  /** How long any <recv> may wait (-recv_timeout). */
  recvTimeoutMs?: number;
  /** sipp quits (and fails) after this (-timeout); it is killed a few seconds later if still alive. Default 30 s. */
  timeoutMs?: number;
  /** Further sipp arguments. */
  args?: string[];
  /** Keep the working folder (for debugging); its path is in the result. */
  keepDir?: boolean;
}

export interface SippResult {
  /** sipp's exit code: 0 all calls succeeded, 1 a call failed, 255 fatal error or -timeout reached,
   * 254 a port (e.g. -mp) already in use, 124 timeout(1) had to stop it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Whether the runner had to kill sipp. */
  killed: boolean;
  /** Every SIP message sent and received (-trace_msg). */
  messages: string;
  /** Unexpected messages and errors (-trace_err). */
  errors: string;
  /** Output of the scenario's <log> actions (-trace_logs). */
  logs: string;
  /** The sipp command line, for error messages. */
  command: string;
  dir: string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

function scenarioPath(scenario: string): string {
  if (scenario.endsWith('.xml') || scenario.includes('/')) return isAbsolute(scenario) ? scenario : resolve(scenario);
  return join(SCENARIO_DIR, `${scenario}.xml`);
}

/** Builds the sipp argument list (without the working-folder files); exported for docs and debugging. */
export function sippArgs(options: SippOptions, scenarioFile: string): string[] {
  const name = basename(scenarioFile, '.xml') as ScenarioName;
  const keys = { ...(SCENARIO_KEYS[name] ?? {}), ...(options.keys ?? {}) };
  const timeoutS = Math.max(1, Math.ceil((options.timeoutMs ?? 30_000) / 1000));
  const args = [
    '-sf', scenarioFile,
    options.target ?? `127.0.0.1:${DEFAULT_SIP_PORT}`,
    '-t', options.transport ?? 'u1',
    '-i', '127.0.0.1',
    '-mi', '127.0.0.1',
    '-ci', '127.0.0.1',
    '-m', '1',
    '-nostdin',
    '-timeout', `${timeoutS}s`,
    '-timeout_error',
  ];
  if (options.service !== undefined) args.push('-s', options.service);
  if (options.localPort !== undefined) args.push('-p', String(options.localPort));
  if (options.mediaPort !== undefined) args.push('-mp', String(options.mediaPort));
  if (options.controlPort !== undefined) args.push('-cp', String(options.controlPort));
  if (options.recvTimeoutMs !== undefined) args.push('-recv_timeout', String(options.recvTimeoutMs));
  for (const [k, v] of Object.entries(keys)) args.push('-key', k, v);
  for (const [k, v] of Object.entries(options.set ?? {})) args.push('-set', k, v);
  args.push(...(options.args ?? []));
  return args;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs one call of a sipp scenario from a fresh temporary folder that holds a copy of the scenario,
 * pcap/ with the given pcaps, and sipp's trace files. Never rejects on a failed call: check `code`.
 */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  const source = scenarioPath(options.scenario);
  const missing = (SCENARIO_PCAPS[basename(source, '.xml') as ScenarioName] ?? []).filter((name) => !options.pcaps?.[name]);
  if (missing.length > 0) throw new Error(`${basename(source)} plays pcap/${missing.join(', pcap/')}: pass it in pcaps`);
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const scenarioFile = join(dir, basename(source));
  copyFileSync(source, scenarioFile);
  mkdirSync(join(dir, 'pcap'));
  for (const [name, path] of Object.entries(options.pcaps ?? {})) {
    if (!existsSync(path)) throw new Error(`pcap ${path} does not exist`);
    symlinkSync(resolve(path), join(dir, 'pcap', name));
  }
  const args = sippArgs(
    { ...options, localPort: options.localPort ?? (await freeSipPort()), controlPort: options.controlPort ?? (await freeUdpPorts(1)) },
    scenarioFile,
  );
  if (options.inf) {
    const inf = join(dir, 'inf.csv');
    writeFileSync(inf, `${options.inf.join('\n')}\n`);
    args.push('-inf', inf);
  }
  const files = { messages: join(dir, 'messages.log'), errors: join(dir, 'errors.log'), logs: join(dir, 'logs.log') };
  args.push('-trace_msg', '-message_file', files.messages, '-trace_err', '-error_file', files.errors, '-trace_logs', '-log_file', files.logs);
  const command = [SIPP, ...args].map(quote).join(' ');

  const started = Date.now();
  // sipp's own -timeout ends it; timeout(1) also does should this process die first.
  const limitS = Math.max(1, Math.ceil((options.timeoutMs ?? 30_000) / 1000)) + 5;
  const child = spawn('timeout', ['-k', '2', String(limitS), SIPP, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString('latin1');
    // sipp redraws its screen all the time; the last screens are all a test could want.
    if (stdout.length > 200_000) stdout = stdout.slice(-100_000);
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString('latin1');
  });
  let killed = false;
  const watchdog = setTimeout(
    () => {
      killed = true;
      child.kill('SIGTERM');
    },
    (options.timeoutMs ?? 30_000) + 8000,
  );
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('error', (err) => {
      stderr += String(err);
      done({ code: null, signal: null });
    });
    child.once('exit', (c, s) => done({ code: c, signal: s }));
  });
  clearTimeout(watchdog);
  running.delete(child);
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'latin1') : '');
  const result: SippResult = {
    code,
    signal,
    stdout,
    stderr,
    durationMs: Date.now() - started,
    killed,
    messages: read(files.messages),
    errors: read(files.errors),
    logs: read(files.logs),
    command,
    dir,
  };
  if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  return result;
}

/** The SIP messages of a sipp -trace_msg log, with their direction. */
export function tracedMessages(messages: string): { direction: 'sent' | 'received'; text: string }[] {
  const out: { direction: 'sent' | 'received'; text: string }[] = [];
  for (const block of messages.split(/^-{10,} .*$/m)) {
    const m = /^\s*(?:UDP|TCP|TLS|SCTP)\s+message\s+(sent|received)[^\n]*\n\n?([\s\S]*)$/.exec(block);
    if (m) out.push({ direction: m[1] === 'sent' ? 'sent' : 'received', text: m[2]!.trim() });
  }
  return out;
}

function tryBindUdp(port: number): Promise<UdpSocket | null> {
  return new Promise((done) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      done(null);
    });
    socket.bind(port, '127.0.0.1', () => done(socket));
  });
}

/**
 * A UDP port P on 127.0.0.1 such that P, P+1, ... P+count-1 are all free right now (and P is even
 * when count > 1). freeUdpPorts(4) suits a sipp -mp, which binds P and P+2.
 */
export async function freeUdpPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = await tryBindUdp(0);
    if (!probe) continue;
    let base = probe.address().port;
    probe.close();
    if (count > 1) base -= base % 2;
    if (base + count > 65535 || base < 1024) continue;
    const held: UdpSocket[] = [];
    for (let i = 0; i < count; i++) {
      const s = await tryBindUdp(base + i);
      if (!s) break;
      held.push(s);
    }
    for (const s of held) s.close();
    if (held.length === count) return base;
  }
  throw new Error('no free UDP ports');
}

/** A port free on 127.0.0.1 for both UDP and TCP (sipp listens on both with -t t1). */
export async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeUdpPorts(1);
    const free = await new Promise<boolean>((done) => {
      const server = createServer();
      server.once('error', () => done(false));
      server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error('no free SIP port');
}

/** A free -mp for one sipp caller (it binds P and P+2). */
export function freeMediaPort(): Promise<number> {
  return freeUdpPorts(4);
}

// ---------------------------------------------------------------------------------------------
// Raw SIP

export interface RawSipOptions {
  transport: 'udp' | 'tcp';
  port?: number;
  host?: string;
  /**
   * The message to send, as is (use \r\n line ends). `{{localPort}}`, `{{localIp}}`, `{{branch}}` and
   * `{{callId}}` are replaced first: the gateway answers UDP requests at the Via's address, so a Via
   * of `SIP/2.0/UDP {{localIp}}:{{localPort}}` brings the answer back here.
   */
  message: string | Buffer;
  /** Default 2000 ms. */
  timeoutMs?: number;
  /** Skip 1xx responses and return the first final one (default false: the very first response). */
  skipProvisional?: boolean;
}

function fill(message: string, localPort: number, host: string): string {
  return message
    .replaceAll('{{localPort}}', String(localPort))
    .replaceAll('{{localIp}}', host)
    .replaceAll('{{branch}}', `z9hG4bK${randomToken()}`)
    .replaceAll('{{callId}}', randomUUID());
}

/** Sends one raw message to the gateway and resolves with the first response's text, or null. */
export async function sendRawSip(options: RawSipOptions): Promise<string | null> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_SIP_PORT;
  const timeoutMs = options.timeoutMs ?? 2000;
  const wanted = (text: string) => {
    const m = parseSipMessage(text);
    if (!m || m.status === undefined) return false;
    return !(options.skipProvisional && m.status < 200);
  };
  if (options.transport === 'udp') {
    const socket = createSocket('udp4');
    try {
      await new Promise<void>((r, j) => {
        socket.once('error', j);
        socket.bind(0, host, () => r());
      });
      const localPort = socket.address().port;
      const data = typeof options.message === 'string' ? Buffer.from(fill(options.message, localPort, host)) : options.message;
      return await new Promise<string | null>((done) => {
        const timer = setTimeout(() => done(null), timeoutMs);
        socket.on('message', (msg) => {
          const text = msg.toString('utf8');
          if (!wanted(text)) return;
          clearTimeout(timer);
          done(text);
        });
        socket.send(data, port, host);
      });
    } finally {
      socket.close();
    }
  }
  return await new Promise<string | null>((done) => {
    const framer = new SipStreamFramer();
    const socket = connect({ host, port });
    let settled = false;
    const finish = (value: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      done(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.once('error', () => finish(null));
    socket.once('close', () => finish(null));
    socket.once('connect', () => {
      const data = typeof options.message === 'string' ? Buffer.from(fill(options.message, socket.localPort ?? 0, host)) : options.message;
      socket.write(data);
    });
    socket.on('data', (chunk: Buffer) => {
      for (const text of framer.push(chunk)) if (wanted(text)) return finish(text);
    });
  });
}

export interface InviteOptions {
  /** Request-URI user (PIN or 'conference'); default 'conference'. */
  user?: string;
  host?: string;
  port?: number;
  transport?: 'UDP' | 'TCP';
  callId?: string;
  branch?: string;
  fromTag?: string;
  /** Local SIP port for Via/Contact; default the {{localPort}} placeholder that sendRawSip fills in. */
  localPort?: number | string;
  rtpPort?: number;
  /** Replaces the SDP body ('' for none). */
  body?: string;
  extraHeaders?: string[];
}

/** A well-formed INVITE (CRLF line ends) to start from in malformed-message tests. */
export function buildInvite(o: InviteOptions = {}): string {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? DEFAULT_SIP_PORT;
  const local = o.localPort ?? '{{localPort}}';
  const transport = o.transport ?? 'UDP';
  const user = o.user ?? 'conference';
  const body =
    o.body ??
    [
      'v=0',
      `o=test 1 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${o.rtpPort ?? 40000} RTP/AVP 8 0 101`,
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=sendrecv',
      '',
    ].join('\r\n');
  const lines = [
    `INVITE sip:${user}@${host}:${port} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${local};branch=${o.branch ?? `z9hG4bK${randomToken()}`};rport`,
    `From: <sip:test@127.0.0.1:${local}>;tag=${o.fromTag ?? randomToken('t')}`,
    `To: <sip:${user}@${host}:${port}>`,
    `Call-ID: ${o.callId ?? randomUUID()}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:test@127.0.0.1:${local};transport=${transport.toLowerCase()}>`,
    'Max-Forwards: 70',
    ...(o.extraHeaders ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return lines.join('\r\n');
}

// ---------------------------------------------------------------------------------------------
// Flood

export interface FloodOptions {
  count: number;
  port?: number;
  host?: string;
  /** Request-URI user; default 'conference'. */
  user?: string;
  /** INVITEs sent back to back before yielding for a millisecond (default: all of them at once). */
  burst?: number;
  /** How long to wait for final responses after the last INVITE (default 5000 ms). */
  settleMs?: number;
  /**
   * Retransmit an INVITE that got no response at all, every 500 ms doubling (RFC 3261 timer A),
   * until settleMs runs out (default true). With false, a dropped INVITE stays unanswered.
   */
  retransmit?: boolean;
  /** ACK and BYE each call that got a 2xx, ACK each non-2xx final (default true). */
  hangUp?: boolean;
}

export interface FloodResult {
  sent: number;
  /** INVITE retransmissions sent. */
  retransmissions: number;
  /** Final response codes: how many calls ended with each. */
  finals: Record<number, number>;
  /** Provisional codes seen, by how many calls saw them. */
  provisionals: Record<number, number>;
  /** Calls with no final response. */
  unanswered: number;
  /** Final code per Call-ID (undefined: none). */
  byCallId: Map<string, number | undefined>;
  durationMs: number;
}

interface FloodCall {
  branch: string;
  fromTag: string;
  invite: string;
  responded: boolean;
  final?: number;
  provisional: Set<number>;
  nextRetransmit: number;
  interval: number;
}

/**
 * Sends `count` INVITEs as fast as UDP allows from one socket, each its own call, and collects the
 * responses. Non-2xx finals are ACKed (the gateway stops retransmitting); 2xx finals are ACKed and
 * hung up with a BYE unless hangUp is false.
 */
export async function flood(options: FloodOptions): Promise<FloodResult> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_SIP_PORT;
  const hangUp = options.hangUp ?? true;
  // Hundreds of responses can arrive at once: a big receive buffer (capped by net.core.rmem_max).
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  await new Promise<void>((r, j) => {
    socket.once('error', j);
    socket.bind(0, host, () => r());
  });
  const localPort = socket.address().port;
  const started = Date.now();
  const calls = new Map<string, FloodCall>();
  let retransmissions = 0;
  const send = (text: string) =>
    new Promise<void>((r) => {
      socket.send(Buffer.from(text), port, host, () => r());
    });
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    allDone = r;
  });
  let sending = true;
  const answered = () => !sending && [...calls.values()].every((c) => c.final !== undefined);

  socket.on('message', (msg) => {
    const m = parseSipMessage(msg.toString('utf8'));
    const callId = m && header(m, 'call-id');
    const call = callId ? calls.get(callId) : undefined;
    if (!m || !call || m.status === undefined) return;
    const cseq = header(m, 'cseq') ?? '';
    if (!/INVITE/i.test(cseq)) return;
    call.responded = true;
    if (m.status < 200) {
      call.provisional.add(m.status);
      return;
    }
    const firstFinal = call.final === undefined;
    call.final ??= m.status;
    const to = header(m, 'to') ?? '';
    const base = [`From: <sip:flood@${host}:${localPort}>;tag=${call.fromTag}`, `To: ${to}`, `Call-ID: ${callId}`, 'Max-Forwards: 70'];
    const ruri = `sip:${options.user ?? 'conference'}@${host}:${port}`;
    if (m.status >= 300) {
      // ACK of a non-2xx final: same branch as the INVITE (RFC 3261 section 17.1.1.3); on every retransmission.
      void send([`ACK ${ruri} SIP/2.0`, `Via: SIP/2.0/UDP ${host}:${localPort};branch=${call.branch};rport`, ...base, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'));
    } else if (hangUp) {
      const contact = /<([^>]+)>/.exec(header(m, 'contact') ?? '')?.[1] ?? ruri;
      void send([`ACK ${contact} SIP/2.0`, `Via: SIP/2.0/UDP ${host}:${localPort};branch=z9hG4bK${randomToken()};rport`, ...base, 'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'));
      if (firstFinal && tagOf(to)) {
        void send([`BYE ${contact} SIP/2.0`, `Via: SIP/2.0/UDP ${host}:${localPort};branch=z9hG4bK${randomToken()};rport`, ...base, 'CSeq: 2 BYE', 'Content-Length: 0', '', ''].join('\r\n'));
      }
    }
    if (answered()) allDone();
  });

  const retransmitter =
    options.retransmit === false
      ? undefined
      : setInterval(() => {
          const now = Date.now();
          for (const call of calls.values()) {
            if (call.responded || now < call.nextRetransmit) continue;
            call.interval *= 2;
            call.nextRetransmit = now + call.interval;
            retransmissions++;
            void send(call.invite);
          }
        }, 50);

  const burst = options.burst ?? options.count;
  for (let i = 0; i < options.count; i++) {
    const callId = `flood-${randomUUID()}`;
    const branch = `z9hG4bK${randomToken()}`;
    const fromTag = randomToken('f');
    const invite = buildInvite({ user: options.user, host, port, localPort, callId, branch, fromTag });
    calls.set(callId, { branch, fromTag, invite, responded: false, provisional: new Set(), nextRetransmit: Date.now() + 500, interval: 500 });
    await send(invite);
    if ((i + 1) % burst === 0) await new Promise((r) => setTimeout(r, 1));
  }
  sending = false;
  const settle = setTimeout(allDone, options.settleMs ?? 5000);
  if (answered()) allDone();
  await finished;
  clearTimeout(settle);
  if (retransmitter) clearInterval(retransmitter);
  // Let the last ACKs and BYEs leave, and take their responses, before closing.
  await new Promise((r) => setTimeout(r, 200));
  socket.close();

  const finals: Record<number, number> = {};
  const provisionals: Record<number, number> = {};
  const byCallId = new Map<string, number | undefined>();
  let unanswered = 0;
  for (const [id, c] of calls) {
    byCallId.set(id, c.final);
    if (c.final === undefined) unanswered++;
    else finals[c.final] = (finals[c.final] ?? 0) + 1;
    for (const p of c.provisional) provisionals[p] = (provisionals[p] ?? 0) + 1;
  }
  return { sent: calls.size, retransmissions, finals, provisionals, unanswered, byCallId, durationMs: Date.now() - started };
}
