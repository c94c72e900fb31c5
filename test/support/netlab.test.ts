import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabHost, NetLab, removeLeftovers } from './netlab.ts';

const root = process.getuid?.() === 0;

/** An echo server (TCP and UDP on the same port) inside the host, started before the probes. */
async function echoServer(host: LabHost, port: number): Promise<void> {
  const script = `const net=require('node:net'),dgram=require('node:dgram');
net.createServer((c)=>c.pipe(c)).listen(${port},'0.0.0.0',()=>{const u=dgram.createSocket('udp4');u.on('message',(m,r)=>u.send(m,r.port,r.address));u.bind(${port},'0.0.0.0',()=>console.log('ready'));});`;
  const child = host.spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout?.once('data', resolve));
}

/** Whether `from` gets an echo back from address:port over the protocol (false when nothing comes back). */
async function echoes(from: LabHost, protocol: 'tcp' | 'udp', address: string, port: number): Promise<boolean> {
  const script =
    protocol === 'tcp'
      ? `const s=require('node:net').connect(${port},'${address}',()=>s.write('hi'));s.on('data',()=>{console.log('yes');process.exit(0)});s.on('error',()=>{console.log('no');process.exit(0)});setTimeout(()=>{console.log('no');process.exit(0)},1500);`
      : `const u=require('node:dgram').createSocket('udp4');u.on('message',()=>{console.log('yes');process.exit(0)});u.on('error',()=>{console.log('no');process.exit(0)});u.send('hi',${port},'${address}');setTimeout(()=>{console.log('no');process.exit(0)},1500);`;
  return (await from.exec(process.execPath, ['-e', script])).trim() === 'yes';
}

const namespaces = () => execFileSync('ip', ['netns', 'list']).toString();

describe.runIf(root)('the network lab', () => {
  let lab: NetLab;
  let a: LabHost;
  let b: LabHost;
  const PORT = 30_001;

  beforeAll(async () => {
    lab = await NetLab.create({ pool: '198.18.0.0/20' });
    a = await lab.addHost('a');
    b = await lab.addHost('b');
    await echoServer(b, PORT);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('gives each host its own address in 198.18.0.0/15, reachable from the others and from the test process', async () => {
    expect(a.address).toMatch(/^198\.1[89]\./);
    expect(a.address).not.toBe(b.address);
    expect(await a.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])).toContain(a.address);
    expect(await echoes(a, 'tcp', b.address, PORT)).toBe(true);
    expect(await echoes(a, 'udp', b.address, PORT)).toBe(true);
    const reply = await fetch(`http://${b.address}:${PORT}/`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(1500) }).catch((e) => e);
    // The echo server answers the request with the request itself: not HTTP, but it did answer.
    expect(String(reply)).not.toMatch(/timeout|EHOSTUNREACH|ENETUNREACH/i);
  });

  it('routes nothing off the lab: a host has no way out to other addresses', async () => {
    expect(await echoes(a, 'tcp', '192.0.2.1', 80)).toBe(false);
    expect(await a.exec('ip', ['-o', 'link', 'show'])).not.toMatch(/ eth1| wlan/);
  });

  it('blocks all UDP but keeps TCP', async () => {
    await lab.blockUdp(a);
    expect(await echoes(a, 'udp', b.address, PORT)).toBe(false);
    expect(await echoes(a, 'tcp', b.address, PORT)).toBe(true);
    await lab.clearRules(a);
    expect(await echoes(a, 'udp', b.address, PORT)).toBe(true);
  });

  it('allows only the given TCP destinations', async () => {
    await echoServer(b, PORT + 1);
    await lab.allowOnlyTcp(a, [{ address: b.address, port: PORT }]);
    expect(await echoes(a, 'tcp', b.address, PORT)).toBe(true);
    expect(await echoes(a, 'tcp', b.address, PORT + 1)).toBe(false);
    expect(await echoes(a, 'udp', b.address, PORT)).toBe(false);
    await lab.clearRules(a);
    expect(await echoes(a, 'tcp', b.address, PORT + 1)).toBe(true);
  });

  it('cuts a link and restores it with address and routes intact', async () => {
    await lab.linkDown(a);
    expect(await echoes(a, 'tcp', b.address, PORT)).toBe(false);
    await lab.linkUp(a);
    const back = async () => {
      for (let i = 0; i < 20; i++) if (await echoes(a, 'tcp', b.address, PORT)) return true;
      return false;
    };
    expect(await back()).toBe(true);
    await lab.cutLink(a, 0.2);
    expect(await back()).toBe(true);
  });

  it('exposes a loopback-only port of a host to the test process', async () => {
    const child = a.spawn(process.execPath, ['-e', `require('node:net').createServer((c)=>c.end('pong')).listen(${PORT + 2},'127.0.0.1',()=>console.log('ready'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => child.stdout?.once('data', resolve));
    const endpoint = await lab.exposeLoopbackPort(a, PORT + 2);
    const { connect } = await import('node:net');
    const [host, port] = endpoint.split(':');
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(port), host);
      let got = '';
      s.on('data', (d) => {
        got += d;
      });
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    expect(text).toBe('pong');
  });

  it('runs executables inside a host through a wrapper script', async () => {
    const wrapper = a.wrapper('/usr/sbin/ip');
    expect(execFileSync(wrapper, ['-4', '-o', 'addr', 'show', 'dev', 'eth0']).toString()).toContain(a.address);
  });

  it('removes its namespaces, and the leftovers of a run that crashed', async () => {
    // A crashed run: pid 999999999 cannot be alive.
    execFileSync('ip', ['netns', 'add', 'cvlab999999999-0-x']);
    await removeLeftovers();
    expect(namespaces()).not.toContain('cvlab999999999-0-x');
    expect(namespaces()).toContain(a.ns);
    const other = await NetLab.create({ pool: '198.18.0.0/20' });
    const c = await other.addHost('c');
    expect(other.subnet).not.toBe(lab.subnet);
    await other.destroy();
    expect(namespaces()).not.toContain(c.ns);
  });
});
