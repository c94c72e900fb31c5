import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROTOCOL_VERSION } from '@convene/protocol/version';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { Signalling } from './Signalling.ts';

/** A socket.io server on an ephemeral port that records each handshake's auth. */
async function pushNode() {
  const http = createServer();
  const io = new Server(http);
  const handshakes: Record<string, unknown>[] = [];
  io.use((socket, next) => {
    handshakes.push(socket.handshake.auth);
    const { token } = socket.handshake.auth as { token?: string };
    if (token === 'revoked') {
      const err = new Error('removed') as Error & { data?: unknown };
      err.data = { code: 'token_revoked', message: 'removed' };
      next(err);
    } else next();
  });
  io.on('connection', (socket) => {
    socket.on('chat', (_payload: unknown, ack: (reply: unknown) => void) => ack({ ok: true, data: { message: 'hi' } }));
    socket.on('leave', (_payload: unknown, ack: (reply: unknown) => void) => ack({ ok: false, error: { code: 'busy', message: 'try again' } }));
    // Busy for the first two tries, as a meeting whose admission lock a slow node holds for a moment.
    let raiseTries = 0;
    socket.on('raiseHand', (_payload: unknown, ack: (reply: unknown) => void) => {
      raiseTries += 1;
      ack(raiseTries <= 2 ? { ok: false, error: { code: 'busy', message: 'try again' } } : { ok: true, data: { tries: raiseTries } });
    });
    socket.on('react', (_payload: unknown, ack: (reply: unknown) => void) => ack({ ok: false, error: { code: 'validation_failed', message: 'no' } }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return { io, url, handshakes, close: () => new Promise<void>((resolve) => io.close(() => resolve())) };
}

const open: Signalling[] = [];
const nodes: Awaited<ReturnType<typeof pushNode>>[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) s.close();
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

async function start(...names: string[]) {
  const started = await Promise.all(names.map(() => pushNode()));
  nodes.push(...started);
  return started;
}

function signalling(urls: string[], token = 'good') {
  const s = new Signalling({ urls, auth: () => ({ token, meetingId: 'm1' }), requestTimeoutMs: 5000, busyRetryMs: 20 });
  open.push(s);
  return s;
}

describe('Signalling', () => {
  it('sends the protocol version in the handshake and turns acks into results or errors', async () => {
    const [node] = await start('a');
    const s = signalling([node!.url]);
    await s.opened();
    expect(node!.handshakes).toEqual([{ token: 'good', meetingId: 'm1', protocol: PROTOCOL_VERSION }]);
    expect(await s.request('chat', { text: 'hi' })).toEqual({ message: 'hi' });
    await expect(s.request('react', { reaction: 'x' })).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('tries a request again after a busy answer, and gives up with busy when it stays busy', async () => {
    const [node] = await start('a');
    const s = signalling([node!.url]);
    await s.opened();
    expect(await s.request('raiseHand', { raised: true })).toEqual({ tries: 3 });
    await expect(s.request('leave', {})).rejects.toMatchObject({ code: 'busy' });
  });

  it('rejects a refused handshake with the server code', async () => {
    const [node] = await start('a');
    await expect(signalling([node!.url], 'revoked').opened()).rejects.toMatchObject({ code: 'token_revoked' });
  });

  it('reconnects to the next push node when its own is gone', async () => {
    const [first, second] = await start('a', 'b');
    const s = signalling([first!.url, second!.url]);
    await s.opened();
    const reconnected = new Promise<void>((resolve) => s.on('connect', () => resolve()));
    await first!.close();
    await reconnected;
    expect(second!.handshakes).toHaveLength(1);
    expect(s.connected).toBe(true);
  });
});
