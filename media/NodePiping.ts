import type { MediaResult } from './contract.ts';
import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { AppError } from '../common/errors.ts';
import { detach } from '../common/detach.ts';
import type { Logger } from '../common/logger.ts';
import type { MediaRoom } from './MediaRoom.ts';
import { listenInfo, type MediaNodeLinks, type MediaNodeOptions, type PeerNotice, reachableAt } from './nodeTypes.ts';
import type { RoomRegistry } from './RoomRegistry.ts';
import type { MediaAppData, NodePipe, RoomProducer } from './roomTypes.ts';

/**
 * A meeting spread over media nodes. A node that wants a producer held elsewhere (`import`)
 * makes a PipeTransport, has the producer's node open the other end (`openPipe`) and send the
 * producer down it (`pipeProducer`), then produces that RTP under the same producer id. Close,
 * pause and resume travel back as `PeerNotice`s.
 */
export class NodePiping {
  private readonly rooms: RoomRegistry;
  private readonly links: MediaNodeLinks;
  private readonly options: MediaNodeOptions;
  private readonly logger: Logger;
  constructor(rooms: RoomRegistry, links: MediaNodeLinks, options: MediaNodeOptions, logger: Logger) {
    this.rooms = rooms;
    this.links = links;
    this.options = options;
    this.logger = logger;
  }

  /** Peers this node has pipes with, for the liveness check. */
  peers(): Set<string> {
    const peers = new Set<string>();
    for (const room of this.rooms.rooms()) for (const peer of room.nodePipes.peers()) peers.add(peer);
    return peers;
  }

  /** Called by a node that wants our producers: a PipeTransport here, connected to its one. */
  async openPipe({ meetingId, pipeId, peerNodeId, ip, port }: { meetingId: string; pipeId: string; peerNodeId: string; ip: string; port: number }): Promise<{ ip: string; port: number }> {
    const room = this.rooms.room(meetingId);
    const { pipes } = room.nodePipes;
    const existing = pipes.get(pipeId);
    if (existing) return reachableAt(this.options, existing.transport.tuple);
    const transport = await this.#createPipeTransport(room);
    await transport.connect({ ip, port });
    pipes.set(pipeId, { pipeId, peerNodeId, direction: 'export', transport });
    transport.observer.once('close', () => pipes.delete(pipeId));
    return reachableAt(this.options, transport.tuple);
  }

  /** Sends one of our producers down an export pipe; the peer produces it on its side. */
  async pipeProducer({ meetingId, pipeId, producerId }: { meetingId: string; pipeId: string; producerId: string }): Promise<MediaResult<'pipeProducer'>> {
    const room = this.rooms.room(meetingId);
    const pipe = room.nodePipes.pipes.get(pipeId);
    if (pipe?.direction !== 'export') throw new AppError('not_found', `pipe ${pipeId} does not exist`);
    const entry = room.producers.get(producerId);
    if (!entry) throw new AppError('not_found', `producer ${producerId} does not exist`);
    await room.ensureInSlot(entry, room.primary);
    const consumer = await pipe.transport.consume({ producerId });
    const notify = (type: PeerNotice['type']) => this.links.notifyPeer(pipe.peerNodeId, { type, meetingId, producerId, from: this.options.nodeId });
    consumer.on('producerclose', () => notify('producerClosed'));
    consumer.on('producerpause', () => notify('producerPaused'));
    consumer.on('producerresume', () => notify('producerResumed'));
    return { kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.producerPaused, participantId: entry.participantId, source: entry.source };
  }

  /** What a peer node tells us about producers it piped here. */
  onPeerNotice(notice: PeerNotice): void {
    const entry = this.rooms.find(notice.meetingId)?.producers.get(notice.producerId);
    if (!entry || entry.importedFrom !== notice.from) return;
    if (notice.type === 'producerClosed') entry.producer.close();
    else if (notice.type === 'producerPaused') detach(this.logger, 'pausing a piped producer', entry.producer.pause());
    else detach(this.logger, 'resuming a piped producer', entry.producer.resume());
  }

  /** A peer died or left: drop every pipe to it. */
  forgetPeer(peerNodeId: string): void {
    for (const room of this.rooms.rooms()) {
      if (room.forgetPeer(peerNodeId) > 0) room.logger.warn({ peerNodeId }, 'closed pipes to a lost media node');
    }
  }

  /** A producer of another node made routable in this room; concurrent callers share one import. */
  import(room: MediaRoom, peerNodeId: string, producerId: string): Promise<RoomProducer> {
    const peers = this.links.peers;
    if (!peers) throw new AppError('not_found', `producer ${producerId} is on another node and this node cannot reach it`);
    const { imports } = room.nodePipes;
    let pending = imports.get(producerId);
    if (!pending) {
      pending = (async () => {
        const pipe = await this.#importPipe(room, peerNodeId);
        const remote = await peers.call(peerNodeId, 'pipeProducer', { meetingId: room.meetingId, pipeId: pipe.pipeId, producerId });
        const producer = await pipe.transport.produce<MediaAppData>({
          id: producerId,
          kind: remote.kind,
          rtpParameters: remote.rtpParameters as types.RtpParameters,
          paused: remote.paused,
          appData: { meetingId: room.meetingId, participantId: remote.participantId, source: remote.source },
        });
        const entry: RoomProducer = { producer, slot: room.primary, participantId: remote.participantId, source: remote.source, importedFrom: peerNodeId };
        room.addProducer(entry);
        return entry;
      })();
      pending.catch(() => imports.delete(producerId));
      imports.set(producerId, pending);
    }
    return pending;
  }

  #importPipe(room: MediaRoom, peerNodeId: string): Promise<NodePipe> {
    const { pipes, importPipes } = room.nodePipes;
    let pending = importPipes.get(peerNodeId);
    if (!pending) {
      pending = (async () => {
        const transport = await this.#createPipeTransport(room);
        const pipeId = randomUUID();
        try {
          const local = reachableAt(this.options, transport.tuple);
          const remote = await this.links.peers!.call(peerNodeId, 'openPipe', { meetingId: room.meetingId, pipeId, peerNodeId: this.options.nodeId, ...local });
          await transport.connect(remote);
        } catch (error) {
          transport.close();
          throw error;
        }
        const pipe: NodePipe = { pipeId, peerNodeId, direction: 'import', transport };
        pipes.set(pipeId, pipe);
        transport.observer.once('close', () => {
          pipes.delete(pipeId);
          if (importPipes.get(peerNodeId) === pending) importPipes.delete(peerNodeId);
        });
        room.logger.info({ peerNodeId, pipeId }, 'piped meeting to another media node');
        return pipe;
      })();
      pending.catch(() => importPipes.delete(peerNodeId));
      importPipes.set(peerNodeId, pending);
    }
    return pending;
  }

  #createPipeTransport(room: MediaRoom): Promise<types.PipeTransport> {
    return room.primary.router.createPipeTransport({ listenInfo: listenInfo(this.options) });
  }
}
