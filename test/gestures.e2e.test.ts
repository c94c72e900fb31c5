import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeeting, type RunningServer, startServer } from './support/server.ts';
import { enter, send } from './support/signalling.ts';

const PORT = 36010;

const next = <T>(socket: Socket, event: string) => new Promise<T>((resolve) => socket.once(event, resolve));

/** The first `event` whose payload passes `test`: the raiser also hears its own raise, and that update may land after its ack. */
const nextWhere = <T>(socket: Socket, event: string, test: (payload: T) => boolean) =>
  new Promise<T>((resolve) => {
    const listener = (payload: T) => {
      if (!test(payload)) return;
      socket.off(event, listener);
      resolve(payload);
    };
    socket.on(event, listener);
  });

/** Raise hand and reactions over the real socket edge: validation, grants, and who hears what. */
describe('raised hands and reactions over socket.io', () => {
  let server: RunningServer;
  let host: Awaited<ReturnType<typeof enter>>;
  let guest: Awaited<ReturnType<typeof enter>>;

  beforeAll(async () => {
    server = await startServer({
      port: PORT,
      env: { MEDIA_WORKERS: '1', MEDIA_PORT_BASE: '36100', MEDIA_RTC_MIN_PORT: '36110', MEDIA_RTC_MAX_PORT: '36200' },
    });
    const meeting = await createMeeting(server.url, { title: 'gestures' });
    host = await enter(server.url, meeting.id, { name: 'Host', hostKey: meeting.hostKey });
    guest = await enter(server.url, meeting.id, { name: 'Guest' });
  });
  afterAll(async () => {
    host?.socket.disconnect();
    guest?.socket.disconnect();
    await server?.stop();
  });

  it('shows a raised hand to the host, who lowers it', async () => {
    const seen = nextWhere<{ participant: { id: string; handRaisedAt: number | null } }>(
      host.socket,
      'participantUpdated',
      (update) => update.participant.id === guest.id && update.participant.handRaisedAt !== null,
    );
    const ack = await send<{ participant: { handRaisedAt: number } }>(guest.socket, 'raiseHand', { raised: true });
    expect(ack).toMatchObject({ ok: true, data: { participant: { id: guest.id, handRaisedAt: expect.any(Number) } } });
    expect((await seen).participant).toMatchObject({ id: guest.id, handRaisedAt: expect.any(Number) });

    const lowered = nextWhere<{ participant: { handRaisedAt: number | null } }>(
      guest.socket,
      'participantUpdated',
      (update) => update.participant.handRaisedAt === null,
    );
    expect(await send(host.socket, 'moderate', { action: 'lowerHand', participantId: guest.id })).toEqual({ ok: true, data: {} });
    expect((await lowered).participant).toMatchObject({ id: guest.id, handRaisedAt: null });
  });

  it('lets only hosts lower someone else’s hand', async () => {
    const ack = await send(guest.socket, 'moderate', { action: 'lowerHand', participantId: host.id });
    expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('passes a reaction to the others and refuses one it does not know', async () => {
    const seen = next<{ participantId: string; reaction: string }>(host.socket, 'reaction');
    expect(await send(guest.socket, 'react', { reaction: 'party' })).toMatchObject({ ok: true, data: { reaction: 'party' } });
    expect(await seen).toMatchObject({ participantId: guest.id, reaction: 'party' });
    const bad = await send(guest.socket, 'react', { reaction: '<script>' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect(await send(guest.socket, 'raiseHand', { raised: 'yes' })).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
  });
});
