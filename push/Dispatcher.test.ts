import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Ack } from '../protocol/src/index.ts';
import { Dispatcher } from './Dispatcher.ts';
import type { HandlerTable } from './handlers/Handler.ts';
import type { ClientSocket, HandlerContext } from './SocketSession.ts';

type Listener = (event: string, ...args: unknown[]) => void;

/** The part of a socket.io socket the dispatcher uses. */
function fakeSocket(id: string): { socket: ClientSocket; send(event: string, payload: unknown): Promise<Ack<unknown>> } {
  let listener: Listener = () => undefined;
  const socket = {
    id,
    data: { joined: true },
    onAny(l: Listener) {
      listener = l;
    },
    emit() {
      return true;
    },
  } as unknown as ClientSocket;
  return {
    socket,
    send: (event, payload) => new Promise((resolve) => listener(event, payload, resolve)),
  };
}

describe('Dispatcher message rate', () => {
  it('refuses a socket past 100 messages a second with rate_limited, without touching other sockets', async () => {
    let handled = 0;
    const handlers = {
      chat: async () => {
        handled++;
        return { message: { id: String(handled), from: 'p', name: 'p', text: 'hi', at: 0 } };
      },
    } as unknown as HandlerTable;
    const dispatcher = new Dispatcher(handlers, pino({ level: 'silent' }));
    const chatty = fakeSocket('chatty');
    const quiet = fakeSocket('quiet');
    dispatcher.attach(chatty.socket, { logger: pino({ level: 'silent' }) } as unknown as HandlerContext);
    dispatcher.attach(quiet.socket, { logger: pino({ level: 'silent' }) } as unknown as HandlerContext);

    const answers = await Promise.all(Array.from({ length: 101 }, () => chatty.send('chat', { text: 'hi' })));
    expect(answers.slice(0, 100).every((a) => a.ok)).toBe(true);
    expect(answers[100]).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(handled).toBe(100);

    expect(await quiet.send('chat', { text: 'hi' })).toMatchObject({ ok: true });
    expect(handled).toBe(101);
  });
});
