import type { Registry } from 'prom-client';
import type { Server } from 'socket.io';
import { BackgroundLoop } from '../common/BackgroundLoop.ts';
import type { Logger } from '../common/logger.ts';
import type { ServerEvents } from '../protocol/src/index.ts';
import type { SeatedReader } from '../meeting/contract.ts';
import { type MeetingFanout, meetingRoom } from './MeetingFanout.ts';
import type { SocketData } from './SocketSession.ts';

/**
 * Checks this push node's sockets against the store, the source of truth for meetings and
 * seats. When a meeting is gone (Redis came back empty) its sockets are told `meetingEnded`
 * and closed; a socket whose seat is gone (missing on two runs in a row: a seat is written
 * just after the socket joins) is told `mediaReset`, and its client takes the seat back or
 * learns it cannot. A failed read does nothing: an unreachable store says nothing about what
 * exists.
 */
export class PushReconciler {
  readonly #loop: BackgroundLoop;
  #suspects = new Set<string>();
  readonly #told = new Set<string>();

  private readonly io: Server;
  private readonly fanout: MeetingFanout;
  private readonly repo: SeatedReader;
  private readonly logger: Logger;
  constructor(io: Server, fanout: MeetingFanout, repo: SeatedReader, logger: Logger, options: { intervalMs?: number; metrics?: Registry } = {}) {
    this.io = io;
    this.fanout = fanout;
    this.repo = repo;
    this.logger = logger;
    this.#loop = new BackgroundLoop({ name: 'push-reconcile', intervalMs: options.intervalMs ?? 3000, logger, metrics: options.metrics }, () => this.reconcile());
  }

  start(): void {
    this.#loop.start();
  }

  runNow(): Promise<void> {
    return this.#loop.runNow();
  }

  stop(): void {
    this.#loop.stop();
  }

  async reconcile(): Promise<void> {
    const suspects = new Set<string>();
    for (const meetingId of this.fanout.meetings()) {
      const sockets = await this.io.local.in(meetingRoom(meetingId)).fetchSockets();
      if ((await this.repo.getMeeting(meetingId)) === null) {
        if (sockets.length === 0) continue;
        this.logger.warn({ meetingId, sockets: sockets.length }, 'meeting is gone from the store; telling its clients');
        const payload: ServerEvents['meetingEnded'] = { reason: 'state_lost' };
        const room = this.io.local.in(meetingRoom(meetingId));
        room.emit('meetingEnded', payload);
        setTimeout(() => room.disconnectSockets(true), 100);
        continue;
      }
      const seated = await this.repo.seatedIds(meetingId);
      for (const socket of sockets) {
        const { claims, joined } = socket.data as SocketData;
        if (!joined) continue;
        const key = socket.id;
        if (seated.has(claims.sub)) {
          this.#told.delete(key);
          continue;
        }
        if (!this.#suspects.has(key)) {
          suspects.add(key);
          continue;
        }
        if (this.#told.has(key)) continue;
        this.#told.add(key);
        this.logger.warn({ meetingId, participantId: claims.sub }, 'seat is gone from the store; telling its client');
        const payload: ServerEvents['mediaReset'] = { reason: 'state_lost' };
        socket.emit('mediaReset', payload);
      }
    }
    this.#suspects = suspects;
    for (const key of this.#told) if (!this.io.sockets.sockets.has(key)) this.#told.delete(key);
  }
}
