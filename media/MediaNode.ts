import type { types } from 'mediasoup';
import type { Logger } from '../common/logger.ts';
import type { ConsumerOptions, MediaSource, TransportOptions } from '../protocol/src/index.ts';
import { Consuming } from './Consuming.ts';
import type { MediaClient, MediaResult } from './contract.ts';
import type { OutputCodec } from './mixer/protocol.ts';
import { NodePiping } from './NodePiping.ts';
import type { Empty, MediaNodeLinks, MediaNodeOptions, PeerNotice, Who } from './nodeTypes.ts';
import { ParticipantTransports } from './ParticipantTransports.ts';
import { type MixerStats, PhoneLegs } from './PhoneLegs.ts';
import { Publishing } from './Publishing.ts';
import { RoomRegistry } from './RoomRegistry.ts';
import type { WorkerPool } from './WorkerPool.ts';

export type { MediaNodeLinks, MediaNodeOptions, PeerNotice } from './nodeTypes.ts';

/**
 * The media tier's whole API, as one facade over the modules that do the work: `RoomRegistry`
 * (meetings, draining), `ParticipantTransports`, `Publishing`, `Consuming`, `PhoneLegs` and
 * `NodePiping`. Every method takes and returns plain JSON, so that it is called in-process
 * (embedded mode) or over HTTP (distributed mode) without change; the RPC is derived from
 * these signatures. Identity (`Who`) comes from the caller's verified token, never from client
 * input: a participant can touch only its own transports, producers and consumers.
 */
export class MediaNode {
  readonly #rooms: RoomRegistry;
  readonly #transports: ParticipantTransports;
  readonly #publishing: Publishing;
  readonly #consuming: Consuming;
  readonly #phoneLegs: PhoneLegs;
  readonly #piping: NodePiping;

  private readonly links: MediaNodeLinks;
  private readonly options: MediaNodeOptions;
  constructor(pool: WorkerPool, links: MediaNodeLinks, options: MediaNodeOptions, logger: Logger) {
    this.links = links;
    this.options = options;
    this.#rooms = new RoomRegistry(pool, links, options, logger);
    this.#transports = new ParticipantTransports(this.#rooms, options);
    this.#publishing = new Publishing(this.#rooms, options);
    this.#piping = new NodePiping(this.#rooms, links, options, logger);
    this.#consuming = new Consuming(this.#rooms, this.#piping, links, options);
    this.#phoneLegs = new PhoneLegs(this.#rooms, this.#transports, options, logger);
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** The client for calls to other media nodes; set once the process's client exists. */
  connectPeers(peers: MediaClient): void {
    this.links.peers = peers;
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  get participantCount(): number {
    let n = 0;
    for (const room of this.#rooms.rooms()) n += room.participants.size;
    return n;
  }

  get draining(): boolean {
    return this.#rooms.draining;
  }

  /** Takes no new meetings or participants from now on; calls in progress go on. */
  startDraining(): void {
    this.#rooms.startDraining();
  }

  get full(): boolean {
    return this.#rooms.full;
  }

  /** Meetings hosted here and their participants, to check against the store. */
  holdings(): Array<{ meetingId: string; participantIds: string[] }> {
    return [...this.#rooms.rooms()].map((room) => ({ meetingId: room.meetingId, participantIds: [...room.participants.keys()] }));
  }

  /** Peers this node has pipes with, for the liveness check. */
  peers(): Set<string> {
    return this.#piping.peers();
  }

  async getRouterRtpCapabilities({ meetingId }: { meetingId: string }): Promise<{ rtpCapabilities: types.RtpCapabilities }> {
    const room = await this.#rooms.ensure(meetingId);
    return { rtpCapabilities: room.primary.router.rtpCapabilities };
  }

  /** Seats a participant's media here; refuses newcomers when draining or full. Idempotent. */
  async registerParticipant({ meetingId, participantId, rtpCapabilities }: Who & { rtpCapabilities: unknown }): Promise<{ activeSpeakerId: string | null }> {
    if (!this.#rooms.findMedia({ meetingId, participantId })) this.#rooms.admitNewcomer();
    const room = await this.#rooms.ensure(meetingId);
    const media = await room.admit(participantId, this.options.consumersPerRouter);
    media.rtpCapabilities = rtpCapabilities as types.RtpCapabilities;
    return { activeSpeakerId: room.activeSpeakerId };
  }

  createWebRtcTransport(params: Who & { direction: 'send' | 'recv' }): Promise<TransportOptions> {
    return this.#transports.createWebRtc(params);
  }

  connectTransport(params: Who & { transportId: string; dtlsParameters: unknown }): Promise<Empty> {
    return this.#transports.connectWebRtc(params);
  }

  restartIce(params: Who & { transportId: string }): Promise<{ iceParameters: unknown }> {
    return this.#transports.restartIce(params);
  }

  /**
   * Plain RTP for peers without WebRTC: the SIP gateway, the audio mixer, RTP load bots. With
   * `comedia` the transport learns the peer's address from its first packet.
   */
  createPlainTransport(params: Who & { comedia?: boolean }): Promise<{ id: string; ip: string; port: number }> {
    return this.#transports.createPlain(params);
  }

  connectPlainTransport(params: Who & { transportId: string; ip: string; port: number }): Promise<Empty> {
    return this.#transports.connectPlain(params);
  }

  /**
   * Closes one of the participant's transports, with its producers and consumers. Idempotent;
   * answers the producers that went with it, which the meeting tier must announce as closed.
   */
  closeTransport(params: Who & { transportId: string }): Promise<{ producerIds: string[] }> {
    return this.#transports.close(params);
  }

  produce(params: Who & { transportId: string; kind: 'audio' | 'video'; rtpParameters: unknown; source: MediaSource; paused?: boolean }): Promise<{ producerId: string }> {
    return this.#publishing.produce(params);
  }

  closeProducer(params: Who & { producerId: string }): Promise<Empty> {
    return this.#publishing.close(params);
  }

  pauseProducer(params: Who & { producerId: string }): Promise<Empty> {
    return this.#publishing.pause(params);
  }

  resumeProducer(params: Who & { producerId: string }): Promise<Empty> {
    return this.#publishing.resume(params);
  }

  /**
   * Consumers start paused; a producer on another node is piped here first (`producerNodeId`
   * says where). Idempotent per producer and transport: asked again, it answers the same
   * consumer, in the same shape.
   */
  consume(params: Who & { producerId: string; producerNodeId?: string; transportId?: string; paused?: boolean }): Promise<ConsumerOptions> {
    return this.#consuming.consume(params);
  }

  resumeConsumer(params: Who & { consumerId: string }): Promise<Empty> {
    return this.#consuming.resume(params);
  }

  pauseConsumer(params: Who & { consumerId: string }): Promise<Empty> {
    return this.#consuming.pause(params);
  }

  setConsumerPreferredLayers(params: Who & { consumerId: string; spatialLayer: number; temporalLayer?: number }): Promise<Empty> {
    return this.#consuming.setPreferredLayers(params);
  }

  /** Idempotent: closing what is already gone succeeds, so callers may retry freely. */
  async closeParticipant({ meetingId, participantId }: Who): Promise<Empty> {
    this.#rooms.find(meetingId)?.removeParticipant(participantId);
    return {};
  }

  async closeMeeting({ meetingId }: { meetingId: string }): Promise<Empty> {
    this.#rooms.close(meetingId);
    return {};
  }

  /** The audio mixer's counters, for metrics; null while no phone leg has started it. */
  mixerStats(): Promise<MixerStats | null> {
    return this.#phoneLegs.mixerStats();
  }

  /** A telephone leg: see `PhoneLegs.create`. */
  createPhoneLeg(params: Who & { codec: OutputCodec; sendTo: { ip: string; port: number }; peer?: { ip: string; port: number } }): Promise<MediaResult<'createPhoneLeg'>> {
    return this.#phoneLegs.create(params);
  }

  /** Called by a node that wants our producers: a PipeTransport here, connected to its one. */
  openPipe(params: { meetingId: string; pipeId: string; peerNodeId: string; ip: string; port: number }): Promise<{ ip: string; port: number }> {
    return this.#piping.openPipe(params);
  }

  /** Sends one of our producers down an export pipe; the peer produces it on its side. */
  pipeProducer(params: { meetingId: string; pipeId: string; producerId: string }): Promise<MediaResult<'pipeProducer'>> {
    return this.#piping.pipeProducer(params);
  }

  /** What a peer node tells us about producers it piped here. */
  onPeerNotice(notice: PeerNotice): void {
    this.#piping.onPeerNotice(notice);
  }

  /** A peer died or left: drop every pipe to it. */
  forgetPeer(peerNodeId: string): void {
    this.#piping.forgetPeer(peerNodeId);
  }

  async close(): Promise<void> {
    this.#rooms.closeAll();
    await this.#phoneLegs.close();
  }
}
