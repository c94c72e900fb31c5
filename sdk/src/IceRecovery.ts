import type { IceServer } from '@convene/protocol';
import type { types as ms } from 'mediasoup-client';
import { ConveneError } from './ConveneError.ts';
import { later } from './platform.ts';
import type { IceRestart, IceRestartReason, Requester } from './types.ts';

export type { IceRestart, IceRestartReason } from './types.ts';

/** `restarted`; `lost`: the server no longer has the transport (rebuild); `unreachable`: the request did not get through (try again later). */
export type RestartOutcome = 'restarted' | 'lost' | 'unreachable';

export interface IceRecoveryHooks {
  request: Requester;
  /** The restart's answer brought ICE servers with a fresh TURN credential: use them for the new gathering. */
  refreshIceServers(servers: IceServer[]): Promise<void>;
  /** False while signalling is down: the seat's recovery restarts ICE when it is back. */
  mayRestart(): boolean;
  restarted(restart: IceRestart): void;
  /** The server lost a transport we asked to restart: only a rebuild brings media back. */
  lost(transportId: string): void;
}

/** How long ICE may stay `disconnected` before we restart it (a brief loss often heals by itself). */
const DISCONNECTED_GRACE_MS = 1500;
/** Between attempts while a restart cannot get through, and how many before leaving it to the seat's recovery. */
const RETRY_MS = 2000;
const MAX_ATTEMPTS = 5;
/**
 * Answers that mean the server has no such transport any more. (`bad_request` is not one: a
 * request socket.io held while disconnected reaches the new socket before its `join`.)
 */
const GONE = new Set(['not_found', 'participant_not_found']);

/**
 * Keeps a transport's ICE alive across network changes: restarts ICE (new credentials from the
 * server, `restartIce` on mediasoup-client, which makes the browser gather and check anew) when
 * ICE has been `disconnected` for a moment or has `failed`, and when asked (the host's network
 * changed, a seat resumed). Only when the server no longer has the transport does it hand over
 * to a rebuild. One restart per transport at a time.
 */
export class IceRecovery {
  readonly #hooks: IceRecoveryHooks;
  readonly #inFlight = new Map<string, Promise<RestartOutcome>>();
  readonly #timers = new Map<string, { cancel(): void }>();

  constructor(hooks: IceRecoveryHooks) {
    this.#hooks = hooks;
  }

  /** Watches a new transport's connection state. */
  watch(transport: ms.Transport): void {
    transport.on('connectionstatechange', (state) => {
      this.#cancelTimer(transport.id);
      if (transport.closed) return;
      if (state === 'failed') this.#attempt(transport, 'failed', 1);
      else if (state === 'disconnected') this.#schedule(transport, 'disconnected', 1, DISCONNECTED_GRACE_MS);
    });
  }

  /**
   * Restarts ICE on one transport now, and says how it went. Joins a restart under way, except
   * for a resumed seat: one under way then was asked on the socket that died, and can only
   * time out.
   */
  restart(transport: ms.Transport, reason: IceRestartReason): Promise<RestartOutcome> {
    const running = this.#inFlight.get(transport.id);
    if (running !== undefined && reason !== 'resumed') return running;
    const work: Promise<RestartOutcome> = this.#restart(transport, reason).finally(() => {
      if (this.#inFlight.get(transport.id) === work) this.#inFlight.delete(transport.id);
    });
    this.#inFlight.set(transport.id, work);
    return work;
  }

  /** Stops every pending retry (the session closed or is rebuilding). */
  stop(): void {
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }

  async #restart(transport: ms.Transport, reason: IceRestartReason): Promise<RestartOutcome> {
    let iceParameters: unknown;
    let iceServers: IceServer[] | undefined;
    try {
      ({ iceParameters, iceServers } = await this.#hooks.request('restartIce', { transportId: transport.id }));
    } catch (error) {
      return error instanceof ConveneError && GONE.has(error.code) ? 'lost' : 'unreachable';
    }
    if (transport.closed) return 'lost';
    // Before the restart: its gathering must allocate on TURN with a credential that is still valid.
    if (iceServers) await this.#hooks.refreshIceServers(iceServers);
    await transport.restartIce({ iceParameters: iceParameters as ms.IceParameters });
    this.#hooks.restarted({ transportId: transport.id, direction: transport.direction, reason });
    return 'restarted';
  }

  /** A restart from the transport's own state: retried while it cannot get through and ICE is still down. */
  #attempt(transport: ms.Transport, reason: IceRestartReason, attempt: number): void {
    if (transport.closed || !this.#hooks.mayRestart()) return;
    this.restart(transport, reason).then(
      (outcome) => {
        if (outcome === 'lost') this.#hooks.lost(transport.id);
        else if (outcome === 'unreachable' && attempt < MAX_ATTEMPTS) this.#schedule(transport, reason, attempt + 1, RETRY_MS);
      },
      // mediasoup-client refused the new parameters (the transport closed meanwhile): nothing left to restart.
      () => undefined,
    );
  }

  #schedule(transport: ms.Transport, reason: IceRestartReason, attempt: number, ms: number): void {
    this.#cancelTimer(transport.id);
    this.#timers.set(
      transport.id,
      later(() => {
        this.#timers.delete(transport.id);
        // Healed meanwhile (a short loss the browser recovered from): nothing to do.
        if (transport.connectionState !== 'connected') this.#attempt(transport, reason, attempt);
      }, ms),
    );
  }

  #cancelTimer(transportId: string): void {
    this.#timers.get(transportId)?.cancel();
    this.#timers.delete(transportId);
  }
}
