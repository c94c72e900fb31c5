import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { ROUTER_MEDIA_CODECS } from './codecs.ts';
import { MediaRoom } from './MediaRoom.ts';
import type { MediaNodeLinks, MediaNodeOptions, Who } from './nodeTypes.ts';
import type { ParticipantMedia } from './ParticipantMedia.ts';
import { RouterSlot } from './RouterSlot.ts';
import type { WorkerPool } from './WorkerPool.ts';

/**
 * The meetings hosted on this node, one `MediaRoom` each, with their routers on the pool's
 * workers; and whether the node takes new ones (draining, full). A room lost with its worker,
 * or idle, is dropped here.
 */
export class RoomRegistry {
  readonly #rooms = new Map<string, MediaRoom>();
  readonly #creating = new Map<string, Promise<MediaRoom>>();
  #draining = false;

  private readonly pool: WorkerPool;
  private readonly links: MediaNodeLinks;
  private readonly options: MediaNodeOptions;
  private readonly logger: Logger;
  constructor(pool: WorkerPool, links: MediaNodeLinks, options: MediaNodeOptions, logger: Logger) {
    this.pool = pool;
    this.links = links;
    this.options = options;
    this.logger = logger;
    pool.on('workerDied', ({ index }) => this.#onWorkerDied(index));
  }

  get size(): number {
    return this.#rooms.size;
  }

  rooms(): IterableIterator<MediaRoom> {
    return this.#rooms.values();
  }

  get draining(): boolean {
    return this.#draining;
  }

  startDraining(): void {
    this.#draining = true;
  }

  get full(): boolean {
    return this.pool.totalLoad().consumers >= this.options.maxConsumers;
  }

  /** Refuses a newcomer (participant or meeting) while draining or full. */
  admitNewcomer(): void {
    if (this.#draining) throw new AppError('node_draining', `media node ${this.options.nodeId} is draining`);
    if (this.full) throw new AppError('node_full', `media node ${this.options.nodeId} is full`);
  }

  find(meetingId: string): MediaRoom | undefined {
    return this.#rooms.get(meetingId);
  }

  /** The participant's media, or undefined: for calls that are idempotent on what is gone. */
  findMedia({ meetingId, participantId }: Who): ParticipantMedia | undefined {
    return this.#rooms.get(meetingId)?.participants.get(participantId);
  }

  room(meetingId: string): MediaRoom {
    const room = this.#rooms.get(meetingId);
    if (!room) throw new AppError('not_found', `meeting ${meetingId} has no router on this node`);
    return room;
  }

  media({ meetingId, participantId }: Who): ParticipantMedia {
    return this.room(meetingId).participant(participantId);
  }

  /** The meeting's room, created on first use; concurrent first joins share one router. */
  async ensure(meetingId: string): Promise<MediaRoom> {
    const existing = this.#rooms.get(meetingId);
    if (existing && !existing.closed) return existing;
    if (this.#draining) throw new AppError('node_draining', `media node ${this.options.nodeId} is draining`);
    let pending = this.#creating.get(meetingId);
    if (!pending) {
      pending = this.#create(meetingId).finally(() => this.#creating.delete(meetingId));
      this.#creating.set(meetingId, pending);
    }
    return pending;
  }

  close(meetingId: string): void {
    const room = this.#rooms.get(meetingId);
    if (!room) return;
    this.#rooms.delete(meetingId);
    room.close();
  }

  closeAll(): void {
    for (const meetingId of [...this.#rooms.keys()]) this.close(meetingId);
  }

  async #createSlot(meetingId: string, usedWorkers: ReadonlySet<number>): Promise<RouterSlot> {
    const worker = this.pool.leastLoaded(usedWorkers);
    if (!worker) throw new AppError('node_full', `media node ${this.options.nodeId} has no free worker for meeting ${meetingId}`);
    const router = await worker.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { meetingId, workerIndex: worker.index } });
    return new RouterSlot(router, worker.index, worker.webRtcServer);
  }

  async #create(meetingId: string): Promise<MediaRoom> {
    const primary = await this.#createSlot(meetingId, new Set());
    const logger = this.logger.child({ meetingId });
    const room: MediaRoom = new MediaRoom(
      meetingId,
      primary,
      {
        onActiveSpeaker: (participantId) => this.links.publish(meetingId, { event: 'activeSpeaker', payload: { participantId } }),
        onIdle: () => {
          if (this.#rooms.get(meetingId) !== room) return;
          logger.info('meeting idle on this node; closing its routers');
          this.close(meetingId);
        },
        addRouter: (used) => this.#createSlot(meetingId, used),
      },
      this.options.routerIdleTimeoutMs,
      logger,
    );
    this.#rooms.set(meetingId, room);
    logger.info({ routerId: primary.router.id, workerIndex: primary.workerIndex }, 'router created');
    return room;
  }

  #onWorkerDied(index: number): void {
    for (const [meetingId, room] of this.#rooms) {
      if (room.slots.some((s) => s.workerIndex === index)) {
        this.#rooms.delete(meetingId);
        room.close();
        this.logger.warn({ meetingId, workerIndex: index }, 'meeting lost a router with its worker');
      }
    }
  }
}
