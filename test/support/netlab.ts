/**
 * A network lab for tests: Linux network namespaces joined by veth pairs to a bridge in a
 * "router" namespace, so browsers, bots and servers each run on a host with a real,
 * non-loopback address, and nftables rules inside a host's namespace can block what a
 * firewall would (all UDP; everything but TCP 443 to one address) or cut its link.
 *
 * Nothing can leave the machine: the router namespace has no uplink and forwards nothing,
 * and the only link into the lab from the machine's own namespace (so that the test process
 * can reach servers in the lab) is a veth whose address is in the lab's /24; the root
 * namespace's ip_forward is not touched. Addresses come only from 198.18.0.0/15 (RFC 2544,
 * the benchmarking range).
 *
 * Needs root (CI runs as root). Everything a lab creates is named `cvlab<pid>…`, so that a
 * later run can find and remove the leftovers of a run that crashed (its pid no longer lives).
 */
import { type ChildProcess, execFile, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PREFIX = 'cvlab';
/** One directory per /24 in use, holding the owner's pid: concurrent labs pick different subnets. */
const CLAIMS = '/run/convene-netlab';
/** The bridge's address in each /24; hosts get .2, .3, … and the test process (root namespace) .254. */
const ROUTER_OCTET = 1;
const ROOT_OCTET = 254;

export interface NetLabOptions {
  /**
   * The pool of /24s to pick this lab's subnet from, as `a.b.c.0/n` inside 198.18.0.0/15
   * (default: the whole benchmarking range). Give each engineer or CI job its own pool if
   * you want to know which addresses a run used.
   */
  pool?: string;
  /** Whether the machine's own namespace gets a link into the lab (default true). */
  rootLink?: boolean;
}

/** A destination a firewalled host may still reach over TCP. */
export interface TcpDestination {
  address: string;
  port: number;
}

export interface LabHost {
  /** The name given to addHost. */
  readonly name: string;
  /** The network namespace (for `ip netns exec`). */
  readonly ns: string;
  /** The host's address in the lab. */
  readonly address: string;
  /** Spawns a process inside the host's namespace. */
  spawn(command: string, args?: string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside the namespace to completion, resolving its stdout. */
  exec(command: string, args?: string[]): Promise<string>;
  /**
   * A shell script that runs `executable` inside the namespace with the arguments it is given,
   * for launchers that take an executable path (playwright's and puppeteer's `executablePath`).
   */
  wrapper(executable: string): string;
}

const ipv4 = (text: string): number[] => {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${text}`);
  return parts;
};

/** The /24 prefixes (`a.b.c`) of a pool inside 198.18.0.0/15. */
function subnetsOf(pool: string): string[] {
  const [base = '', bitsText] = pool.split('/');
  const bits = Number(bitsText);
  const [a = 0, b = 0, c = 0] = ipv4(base);
  if (a !== 198 || (b !== 18 && b !== 19) || !(bits >= 15 && bits <= 24)) throw new Error(`lab pool ${pool} is not inside 198.18.0.0/15`);
  const start = ((b << 8) | c) & ~((1 << (24 - bits)) - 1);
  const out: string[] = [];
  for (let i = 0; i < 1 << (24 - bits); i++) out.push(`198.${(start + i) >> 8}.${(start + i) & 255}`);
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

async function killNamespaceProcesses(ns: string): Promise<void> {
  const pids = (await ip('netns', 'pids', ns).catch(() => ''))
    .split('\n')
    .map(Number)
    .filter((pid) => pid > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Removes namespaces, root links and subnet claims of labs whose process is gone. */
export async function removeLeftovers(): Promise<void> {
  const names = (await ip('netns', 'list').catch(() => ''))
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(PREFIX));
  for (const ns of names) {
    const pid = Number(/^cvlab(\d+)-/.exec(ns)?.[1]);
    if (pid && alive(pid)) continue;
    await killNamespaceProcesses(ns);
    await ip('netns', 'del', ns).catch(() => undefined);
  }
  const links = (await ip('-o', 'link', 'show').catch(() => '')).matchAll(/^\d+: (cvl(\d+)x\d+)[@:]/gm);
  for (const [, name = '', pid] of links) if (!alive(Number(pid))) await ip('link', 'del', name).catch(() => undefined);
  mkdirSync(CLAIMS, { recursive: true });
  for (const claim of readdirSync(CLAIMS)) {
    const pid = Number(readFileSync(path.join(CLAIMS, claim), 'utf8').trim() || 0);
    if (!pid || !alive(pid)) rmSync(path.join(CLAIMS, claim), { force: true });
  }
}

/** Claims a /24 from the pool that no living lab holds (a file created with O_EXCL is the lock). */
function claimSubnet(pool: string): string {
  mkdirSync(CLAIMS, { recursive: true });
  for (const subnet of subnetsOf(pool)) {
    try {
      writeFileSync(path.join(CLAIMS, subnet), String(process.pid), { flag: 'wx' });
      return subnet;
    } catch {
      // taken
    }
  }
  throw new Error(`no free /24 left in lab pool ${pool}`);
}

const labs = new Set<NetLab>();
let exitHookInstalled = false;

/** Synchronous last resort for a process that exits without running afterAll. */
function removeOnExit(): void {
  for (const lab of labs) lab.destroySync();
}

export class NetLab {
  readonly subnet: string;
  /** The bridge's address: each host's default route, so nothing needs a route off the lab. */
  readonly gateway: string;
  /** The machine's own (root namespace) address in the lab, when it has a link. */
  readonly rootAddress: string | undefined;
  readonly hosts = new Map<string, LabHost>();
  /** The subnet's index in 198.18.0.0/15, in names, so that one process can hold several labs. */
  private readonly tag: string;
  private readonly router: string;
  private readonly rootLink: string;
  private readonly scratch: string;
  private nextOctet = 2;
  private destroyed = false;

  private constructor(subnet: string, rootLink: boolean) {
    this.subnet = subnet;
    this.gateway = `${subnet}.${ROUTER_OCTET}`;
    this.rootAddress = rootLink ? `${subnet}.${ROOT_OCTET}` : undefined;
    this.tag = String((Number(subnet.split('.')[1]) - 18) * 256 + Number(subnet.split('.')[2]));
    this.router = `${PREFIX}${process.pid}-${this.tag}-router`;
    this.rootLink = `cvl${process.pid}x${this.tag}`;
    this.scratch = mkdtempSync(path.join(tmpdir(), 'cvlab-'));
  }

  /** Builds the router namespace and its bridge; removes leftovers of crashed runs first. */
  static async create(options: NetLabOptions = {}): Promise<NetLab> {
    await removeLeftovers();
    const subnet = claimSubnet(options.pool ?? '198.18.0.0/15');
    const lab = new NetLab(subnet, options.rootLink ?? true);
    labs.add(lab);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', removeOnExit);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          removeOnExit();
          process.exit(130);
        });
      }
    }
    try {
      await ip('netns', 'add', lab.router);
      await ip('-n', lab.router, 'link', 'set', 'lo', 'up');
      await ip('-n', lab.router, 'link', 'add', 'br0', 'type', 'bridge');
      await ip('-n', lab.router, 'addr', 'add', `${lab.gateway}/24`, 'dev', 'br0');
      await ip('-n', lab.router, 'link', 'set', 'br0', 'up');
      // The router answers for the bridge only; it has no uplink and must forward nothing.
      await lab.inRouter('sysctl', '-qw', 'net.ipv4.ip_forward=0');
      if (lab.rootAddress) {
        await ip('link', 'add', lab.rootLink, 'type', 'veth', 'peer', 'name', 'root', 'netns', lab.router);
        await ip('-n', lab.router, 'link', 'set', 'root', 'master', 'br0', 'up');
        await ip('addr', 'add', `${lab.rootAddress}/24`, 'dev', lab.rootLink);
        await ip('link', 'set', lab.rootLink, 'up');
      }
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  /** Adds a host: its own namespace, a veth to the bridge, the next address and a default route to the router. */
  async addHost(name: string): Promise<LabHost> {
    if (!/^[a-z][a-z0-9]{0,9}$/.test(name)) throw new Error(`lab host name must be short lowercase alphanumerics: ${name}`);
    if (this.hosts.has(name)) throw new Error(`lab host ${name} exists`);
    if (this.nextOctet >= ROOT_OCTET) throw new Error('lab is full');
    const ns = `${PREFIX}${process.pid}-${this.tag}-${name}`;
    const address = `${this.subnet}.${this.nextOctet++}`;
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', this.router, 'link', 'add', `h-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('-n', this.router, 'link', 'set', `h-${name}`, 'master', 'br0', 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', ns, 'route', 'add', 'default', 'via', this.gateway);
    const scratch = this.scratch;
    const host: LabHost = {
      name,
      ns,
      address,
      spawn: (command, args = [], options = {}) => spawn('ip', ['netns', 'exec', ns, command, ...args], options),
      exec: async (command, args = []) => (await run('ip', ['netns', 'exec', ns, command, ...args], { maxBuffer: 16 << 20 })).stdout,
      wrapper: (executable) => {
        const file = path.join(scratch, `${name}-${path.basename(executable)}`);
        writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${ns} ${executable} "$@"\n`, { mode: 0o755 });
        return file;
      },
    };
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): LabHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no lab host ${name}`);
    return host;
  }

  /** Drops all UDP in and out of the host (loopback excepted): a network that blocks UDP. */
  async blockUdp(host: LabHost): Promise<void> {
    await this.nft(
      host,
      `table inet cvlab {
        chain input { type filter hook input priority 0; policy accept; iif lo accept; meta l4proto udp drop; }
        chain output { type filter hook output priority 0; policy accept; oif lo accept; meta l4proto udp drop; }
      }`,
    );
  }

  /**
   * Lets the host reach only the given TCP destinations (e.g. TURN on 443, and the site that
   * serves the app): everything else in and out, UDP included, is dropped.
   */
  async allowOnlyTcp(host: LabHost, destinations: TcpDestination[]): Promise<void> {
    const allow = destinations.map((d) => `ip daddr ${ipv4(d.address).join('.')} tcp dport ${Number(d.port)} accept;`).join(' ');
    await this.nft(
      host,
      `table inet cvlab {
        chain input { type filter hook input priority 0; policy drop; iif lo accept; ct state established,related accept; }
        chain output { type filter hook output priority 0; policy drop; oif lo accept; ct state established,related accept; ${allow} }
      }`,
    );
  }

  /** Drops the host's outgoing TCP to the given destinations only; everything else passes. */
  async blockTcpTo(host: LabHost, destinations: TcpDestination[]): Promise<void> {
    const drop = destinations.map((d) => `ip daddr ${ipv4(d.address).join('.')} tcp dport ${Number(d.port)} drop;`).join(' ');
    await this.nft(
      host,
      `table inet cvlab {
        chain output { type filter hook output priority 0; policy accept; oif lo accept; ${drop} }
      }`,
    );
  }

  /** Removes the host's firewall rules. */
  async clearRules(host: LabHost): Promise<void> {
    await host.exec('nft', ['delete', 'table', 'inet', 'cvlab']).catch(() => undefined);
  }

  /**
   * Takes the host's link down (the bridge side, so the host sees its carrier go and keeps its
   * address and routes, as a laptop whose Wi-Fi drops does).
   */
  async linkDown(host: LabHost): Promise<void> {
    await ip('-n', this.router, 'link', 'set', `h-${host.name}`, 'down');
  }

  async linkUp(host: LabHost): Promise<void> {
    await ip('-n', this.router, 'link', 'set', `h-${host.name}`, 'up');
  }

  /** Cuts the host's link for `seconds`, then restores it. */
  async cutLink(host: LabHost, seconds: number): Promise<void> {
    await this.linkDown(host);
    try {
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    } finally {
      await this.linkUp(host);
    }
  }

  /**
   * Makes a TCP port that a process in the host binds on loopback only (Firefox's WebDriver BiDi
   * endpoint) reachable from the test process at `host.address:port`. The forwarder lives in the
   * namespace and dies with the lab.
   */
  async exposeLoopbackPort(host: LabHost, port: number): Promise<string> {
    const script = `const net=require('node:net');net.createServer((c)=>{const u=net.connect(${Number(port)},'127.0.0.1');c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(${Number(port)},'${host.address}',()=>console.log('ready'));`;
    const child = host.spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`port forwarder exited with ${code}`)));
    });
    return `${host.address}:${port}`;
  }

  /** Kills every process in the lab's namespaces and removes them, the root link and the claim. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    labs.delete(this);
    for (const host of this.hosts.values()) {
      await killNamespaceProcesses(host.ns);
      await ip('netns', 'del', host.ns).catch(() => undefined);
    }
    await killNamespaceProcesses(this.router);
    await ip('netns', 'del', this.router).catch(() => undefined);
    if (this.rootAddress) await ip('link', 'del', this.rootLink).catch(() => undefined);
    rmSync(path.join(CLAIMS, this.subnet), { force: true });
    rmSync(this.scratch, { recursive: true, force: true });
  }

  /** destroy() for the process's 'exit' event, where nothing asynchronous runs any more. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const namespaces = [...[...this.hosts.values()].map((h) => h.ns), this.router];
    const script = [
      ...namespaces.map((ns) => `for p in $(ip netns pids ${ns} 2>/dev/null); do kill -9 $p; done; ip netns del ${ns}`),
      this.rootAddress ? `ip link del ${this.rootLink}` : '',
      `rm -f ${CLAIMS}/${this.subnet}`,
      `rm -rf ${this.scratch}`,
    ].join('\n');
    spawnSyncQuiet(script);
  }

  private async inRouter(command: string, ...args: string[]): Promise<void> {
    await run('ip', ['netns', 'exec', this.router, command, ...args]);
  }

  private async nft(host: LabHost, rules: string): Promise<void> {
    await this.clearRules(host);
    const file = path.join(this.scratch, `${host.name}.nft`);
    writeFileSync(file, rules);
    await host.exec('nft', ['-f', file]);
  }
}

function spawnSyncQuiet(script: string): void {
  spawnSync('sh', ['-c', script], { stdio: 'ignore' });
}
