/**
 * Janus (the Debian package's `janus`, 1.1.x) for loadtest/mixer-vs-janus.ts: a throw-away
 * configuration folder with only the HTTP transport (on 127.0.0.1) and the AudioBridge plugin,
 * the process itself (under coreutils `timeout`, so that it stops on its own whatever happens to
 * the benchmark), and a small client for its HTTP API that joins plain-RTP participants.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LIB = '/usr/lib/x86_64-linux-gnu/janus';

export interface JanusOptions {
  httpPort: number;
  /** Janus core's own RTP/ICE range (unused here, kept out of the plugin's way). */
  corePortRange: string;
  /** Where AudioBridge binds its plain-RTP participants' sockets. */
  rtpPortRange: string;
  /** Janus exits (SIGTERM, then SIGKILL 5 s later) after this long, whatever happens. */
  lifetimeS: number;
  /** Niceness to run at (through nice(1)); 0 for the default. */
  nice?: number;
}

export class JanusProcess {
  readonly dir: string;
  readonly child: ChildProcess;
  readonly url: string;

  private constructor(dir: string, child: ChildProcess, url: string) {
    this.dir = dir;
    this.child = child;
    this.url = url;
  }

  static async start(options: JanusOptions): Promise<JanusProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'convene-janus-'));
    const disabledPlugins = ['duktape', 'echotest', 'lua', 'nosip', 'recordplay', 'sip', 'streaming', 'textroom', 'videocall', 'videoroom', 'voicemail'];
    const disabledTransports = ['mqtt', 'nanomsg', 'pfunix', 'rabbitmq', 'websockets'];
    writeFileSync(
      join(dir, 'janus.jcfg'),
      `general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  debug_level = 3
  session_timeout = 0
}
media: { rtp_port_range = "${options.corePortRange}" }
nat: { nice_debug = false }
plugins: { disable = "${disabledPlugins.map((p) => `libjanus_${p}.so`).join(',')}" }
transports: { disable = "${disabledTransports.map((t) => `libjanus_${t}.so`).join(',')}" }
loggers: { disable = "libjanus_jsonlog.so" }
events: { broadcast = false }
`,
    );
    writeFileSync(
      join(dir, 'janus.transport.http.jcfg'),
      `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${options.httpPort}
  ip = "127.0.0.1"
  https = false
}
admin: { admin_http = false }
`,
    );
    writeFileSync(
      join(dir, 'janus.plugin.audiobridge.jcfg'),
      `general: {
  rtp_port_range = "${options.rtpPortRange}"
  local_ip = "127.0.0.1"
  events = false
}
`,
    );
    const command = ['timeout', '-k', '5', String(options.lifetimeS), 'janus', '-F', dir, '-E', 'lo', '-i', '127.0.0.1', '-o', '-N', '-L', join(dir, 'janus.log')];
    // nice(1) execs timeout(1) in the same process, which runs janus as its only child.
    const child = options.nice ? spawn('nice', ['-n', String(options.nice), ...command], { stdio: 'ignore' }) : spawn(command[0]!, command.slice(1), { stdio: 'ignore' });
    const janus = new JanusProcess(dir, child, `http://127.0.0.1:${options.httpPort}/janus`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`janus exited at start (code ${child.exitCode}); log:\n${janus.log().slice(-2000)}`);
      try {
        const res = await fetch(`${janus.url}/info`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await janus.stop();
        throw new Error('janus did not answer on its HTTP port within 15 s');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return janus;
  }

  /** The janus process itself (the child is `timeout`, its parent). */
  janusPid(): number {
    const children = readFileSync(`/proc/${this.child.pid}/task/${this.child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (children.length !== 1) throw new Error(`expected one child of timeout(1), found ${children.length}`);
    return Number(children[0]);
  }

  async version(): Promise<string> {
    const info = (await (await fetch(`${this.url}/info`)).json()) as { version_string?: string; plugins?: Record<string, { version_string?: string }> };
    return `${info.version_string ?? '?'} (AudioBridge plugin ${info.plugins?.['janus.plugin.audiobridge']?.version_string ?? '?'})`;
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'janus.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      // timeout(1) passes the signal on to janus, then exits with it.
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

type JanusReply = { janus: string; transaction?: string; sender?: number; data?: { id: number }; error?: { code: number; reason: string }; plugindata?: { plugin: string; data: Record<string, unknown> } };

export interface RtpJoin {
  /** Janus's address for this participant's RTP. */
  ip: string;
  port: number;
  participantId: number;
}

/** One Janus session; one handle per participant, as each handle is one AudioBridge participant. */
export class JanusClient {
  #transaction = 0;
  readonly #waiters = new Map<number, (event: JanusReply) => void>();
  readonly #abort = new AbortController();
  #polling?: Promise<void>;

  private readonly url: string;
  readonly sessionId: number;
  private constructor(
    url: string,
    sessionId: number,
  ) {
    this.url = url;
    this.sessionId = sessionId;
  }

  static async connect(url: string): Promise<JanusClient> {
    const created = await post(url, { janus: 'create', transaction: 'create' });
    if (created.janus !== 'success' || !created.data) throw new Error(`janus create: ${JSON.stringify(created)}`);
    const client = new JanusClient(url, created.data.id);
    client.#polling = client.#poll();
    return client;
  }

  async attach(): Promise<number> {
    const reply = await this.#post(`${this.url}/${this.sessionId}`, { janus: 'attach', plugin: 'janus.plugin.audiobridge' });
    if (reply.janus !== 'success' || !reply.data) throw new Error(`janus attach: ${JSON.stringify(reply)}`);
    return reply.data.id;
  }

  /** A synchronous AudioBridge request (create, list, ...): the answer is in the HTTP reply. */
  async request(handleId: number, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.#post(`${this.url}/${this.sessionId}/${handleId}`, { janus: 'message', body });
    const data = reply.plugindata?.data;
    if (reply.janus !== 'success' || !data || data['audiobridge'] === 'event' || data['error']) throw new Error(`audiobridge ${String(body['request'])}: ${JSON.stringify(reply)}`);
    return data;
  }

  /** Joins a plain-RTP participant: Janus sends the mix (Opus) to `dest` and listens where it answers. */
  async joinRtp(handleId: number, body: Record<string, unknown>): Promise<RtpJoin> {
    const event = new Promise<JanusReply>((resolve) => this.#waiters.set(handleId, resolve));
    const ack = await this.#post(`${this.url}/${this.sessionId}/${handleId}`, { janus: 'message', body });
    if (ack.janus !== 'ack') throw new Error(`audiobridge join: ${JSON.stringify(ack)}`);
    const reply = await Promise.race([event, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('audiobridge join: no event within 10 s')), 10_000))]);
    const data = reply.plugindata?.data ?? {};
    const rtp = data['rtp'] as { ip?: string; port?: number } | undefined;
    if (data['audiobridge'] !== 'joined' || !rtp?.port) throw new Error(`audiobridge join: ${JSON.stringify(reply)}`);
    return { ip: rtp.ip ?? '127.0.0.1', port: rtp.port, participantId: Number(data['id']) };
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#polling;
  }

  async #post(url: string, body: Record<string, unknown>): Promise<JanusReply> {
    return post(url, { ...body, transaction: `t${++this.#transaction}` });
  }

  /** Long poll for asynchronous events (join answers); the other events are not needed. */
  async #poll(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      try {
        const res = await fetch(`${this.url}/${this.sessionId}?maxev=100`, { signal: this.#abort.signal });
        const body = (await res.json()) as JanusReply | JanusReply[];
        for (const event of Array.isArray(body) ? body : [body]) {
          if (event.janus !== 'event' || event.sender === undefined) continue;
          const waiter = this.#waiters.get(event.sender);
          if (waiter && event.plugindata?.data['audiobridge'] !== 'event') {
            this.#waiters.delete(event.sender);
            waiter(event);
          } else if (waiter && event.plugindata?.data['error']) {
            this.#waiters.delete(event.sender);
            waiter(event);
          }
        }
      } catch {
        if (this.#abort.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

async function post(url: string, body: Record<string, unknown>): Promise<JanusReply> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return (await res.json()) as JanusReply;
}
