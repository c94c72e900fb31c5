import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { detach } from '../common/detach.ts';
import { ActiveSpeaker } from './ActiveSpeaker.ts';
import { CrossWorkerPipes } from './CrossWorkerPipes.ts';
import { ParticipantMedia } from './ParticipantMedia.ts';
import { RoomNodePipes } from './RoomNodePipes.ts';
import type { RoomMix, RoomProducer } from './roomTypes.ts';
import type { RouterSlot } from './RouterSlot.ts';

export interface MediaRoomHooks {
  onActiveSpeaker(participantId: string): void;
  onIdle(): void;
  /** A router on another worker for this room; throws `node_full` when none is left. */
  addRouter(usedWorkers: ReadonlySet<number>): Promise<RouterSlot>;
}

/**
 * A meeting's presence on this node: one or more routers (one per worker, so that
 * pipeToRouter is allowed between them), its participants' objects, the producers it can
 * route, and pipes to other nodes. It closes only itself and reports idleness rather than
 * deciding to close.
 */
export class MediaRoom {
  readonly slots: RouterSlot[];
  readonly participants = new Map<string, ParticipantMedia>();
  readonly producers = new Map<string, RoomProducer>();
  readonly nodePipes = new RoomNodePipes();
  readonly #crossWorker = new CrossWorkerPipes();
  readonly #speaker: ActiveSpeaker;
  #addingSlot?: Promise<RouterSlot>;
  /** The audio mix, present while the meeting has phone legs on this node. */
  mix?: RoomMix;
  #idleTimer?: NodeJS.Timeout;

  readonly meetingId: string;
  private readonly hooks: MediaRoomHooks;
  private readonly idleTimeoutMs: number;
  readonly logger: Logger;
  constructor(meetingId: string, primary: RouterSlot, hooks: MediaRoomHooks, idleTimeoutMs: number, logger: Logger) {
    this.meetingId = meetingId;
    this.hooks = hooks;
    this.idleTimeoutMs = idleTimeoutMs;
    this.logger = logger;
    this.slots = [primary];
    this.#speaker = new ActiveSpeaker(primary.router, (participantId) => hooks.onActiveSpeaker(participantId));
    this.#armIdleTimer();
  }

  get primary(): RouterSlot {
    return this.slots[0]!;
  }

  get closed(): boolean {
    return this.primary.router.closed;
  }

  get activeSpeakerId(): string | null {
    return this.#speaker.participantId;
  }

  consumerCount(): number {
    return this.slots.reduce((n, s) => n + s.consumers.size, 0);
  }

  participant(participantId: string): ParticipantMedia {
    const media = this.participants.get(participantId);
    if (!media) throw new AppError('not_found', `participant ${participantId} has no media on this node`);
    return media;
  }

  /** Seats a participant on a router under its consumer budget, adding a router if all are full. */
  async admit(participantId: string, consumerBudget: number): Promise<ParticipantMedia> {
    const existing = this.participants.get(participantId);
    if (existing) return existing;
    let slot = this.slots.find((s) => !s.router.closed && s.consumers.size < consumerBudget);
    if (!slot) {
      this.#addingSlot ??= this.hooks.addRouter(new Set(this.slots.map((s) => s.workerIndex))).finally(() => {
        this.#addingSlot = undefined;
      });
      slot = await this.#addingSlot;
      if (!this.slots.includes(slot)) this.slots.push(slot);
      this.logger.info({ routerId: slot.router.id, workerIndex: slot.workerIndex }, 'meeting spread to another worker');
    }
    const again = this.participants.get(participantId);
    if (again) return again;
    const media = new ParticipantMedia(participantId, slot);
    slot.participants++;
    this.participants.set(participantId, media);
    this.#disarmIdleTimer();
    return media;
  }

  addProducer(entry: RoomProducer): void {
    const id = entry.producer.id;
    this.producers.set(id, entry);
    entry.producer.observer.once('close', () => {
      if (this.producers.get(id) === entry) this.producers.delete(id);
      this.nodePipes.imports.delete(id);
    });
    if (entry.producer.kind === 'audio') {
      detach(
        this.logger,
        'adding a producer to the active speaker observer',
        this.ensureInSlot(entry, this.primary).then(() => this.#speaker.add(id)),
      );
      if (this.mix) detach(this.logger, 'giving the mixer an input', this.mix.addProducer(entry));
    }
  }

  /** Makes a producer consumable on another router of this room (pipeToRouter, across workers). */
  ensureInSlot(entry: RoomProducer, slot: RouterSlot): Promise<void> {
    return this.#crossWorker.ensureIn(entry, slot);
  }

  removeParticipant(participantId: string): void {
    const media = this.participants.get(participantId);
    if (!media) return;
    media.close();
    media.slot.participants--;
    this.participants.delete(participantId);
    if (this.mix?.removeOutput(participantId) && this.mix.outputs === 0) {
      // No phone leg left: the mix stops, and with it all its work.
      this.mix.close();
      this.mix = undefined;
    }
    if (this.participants.size === 0) this.#armIdleTimer();
  }

  /** Closes every pipe to a node (it died or left); imported producers close with them. */
  forgetPeer(peerNodeId: string): number {
    return this.nodePipes.forgetPeer(peerNodeId, this.producers.values());
  }

  close(): void {
    this.#disarmIdleTimer();
    this.mix?.close();
    for (const media of this.participants.values()) media.close();
    this.participants.clear();
    for (const slot of this.slots) slot.router.close();
  }

  #armIdleTimer(): void {
    this.#disarmIdleTimer();
    this.#idleTimer = setTimeout(() => this.hooks.onIdle(), this.idleTimeoutMs);
    this.#idleTimer.unref();
  }

  #disarmIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}
