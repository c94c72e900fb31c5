import type {
  ChatMessage,
  ClientMessage,
  ClientMessageName,
  ClientResults,
  FileInfo,
  IceServer,
  JoinResult,
  MediaSource,
  MeetingSummary,
  ParticipantInfo,
  Presentation,
  ProducerInfo,
  Reaction,
  VideoCodec,
} from '@convene/protocol';
import type { types as ms } from 'mediasoup-client';
import { ConveneError } from './ConveneError.ts';
import { Emitter } from './Emitter.ts';
import { FilesApi, requestJoinToken } from './http.ts';
import { MediaSession, type PublishOptions } from './MediaSession.ts';
import { MeetingState, type MirroredEvent } from './MeetingState.ts';
import { type BlobLike, type FileReference, watchNetwork } from './platform.ts';
import { Signalling } from './Signalling.ts';
import type { ClientEvents, JoinOptions, MediaTrack, RemoteTrack } from './types.ts';

const MIRRORED: MirroredEvent[] = [
  'participantJoined',
  'participantUpdated',
  'participantLeft',
  'producerAdded',
  'producerUpdated',
  'producerClosed',
  'activeSpeaker',
  'chatMessage',
  'meetingUpdated',
  'presentation',
  'fileUpdated',
];

/**
 * Typed client for the Convene protocol: joins by link, publishes and subscribes through
 * mediasoup-client, and recovers a dropped connection by reclaiming its seat, restarting ICE,
 * and rebuilding transports only if the server lost them. A facade over {@link Signalling}
 * (socket, acks, reconnection), {@link MeetingState} (the mirror of the meeting),
 * {@link MediaSession} (device, transports, tracks) and {@link FilesApi} (HTTP).
 *
 * Longer than the other modules (about 350 lines) because it is the whole public API in one
 * place, each method documented and a few lines long; the work is in the four parts above.
 */
export class ConveneClient extends Emitter<ClientEvents> {
  readonly options: JoinOptions;
  readonly participantId: string;
  readonly #signalling: Signalling;
  readonly #state: MeetingState;
  readonly #media: MediaSession;
  readonly #files: FilesApi;
  #token: string;
  #closed = false;
  #recovering?: Promise<void>;
  readonly #unwatchNetwork: () => void;
  /** The first join while it is under way: subscriptions announced meanwhile wait for its answer. */
  #joining?: Promise<unknown>;

  private constructor(options: JoinOptions, token: string, participantId: string, iceServers: IceServer[] = []) {
    super();
    this.options = options;
    this.participantId = participantId;
    this.#token = token;
    this.#signalling = new Signalling({
      urls: options.signalingUrls?.length ? options.signalingUrls : [options.baseUrl],
      auth: () => ({ token: this.#token, meetingId: options.meetingId }),
      requestTimeoutMs: options.requestTimeoutMs,
    });
    this.#state = new MeetingState(participantId);
    this.#media = new MediaSession(
      (name, payload) => this.#signalling.request(name, payload),
      options.handlerName,
      () => !this.#closed && this.connected,
      options.videoCodecs,
      { iceServers: options.iceServers ?? iceServers, iceTransportPolicy: options.iceTransportPolicy, fixed: options.iceServers !== undefined },
    );
    this.#files = new FilesApi(options.baseUrl, options.meetingId, () => this.#token, options.fetch);
    this.#wire();
    this.#unwatchNetwork = watchNetwork(() => this.#background(this.#networkChanged()));
  }

  /** Asks the API for a join token with the meeting link, then connects and joins. */
  static async join(options: JoinOptions): Promise<ConveneClient> {
    const { token, participantId, iceServers, rtpCapabilities } = await requestJoinToken(options);
    const client = new ConveneClient(options, token, participantId, iceServers);
    await client.#connect(rtpCapabilities);
    return client;
  }

  /** Joins with a token obtained elsewhere (a server that minted it, say). */
  static async withToken(options: Omit<JoinOptions, 'name'> & { token: string; participantId: string }): Promise<ConveneClient> {
    const client = new ConveneClient({ ...options, name: '' }, options.token, options.participantId);
    await client.#connect();
    return client;
  }

  get connected(): boolean {
    return this.#signalling.connected;
  }

  /** The token for HTTP calls about this meeting (files, page images): `?token=` or Bearer. */
  get token(): string {
    return this.#token;
  }

  get participants(): Map<string, ParticipantInfo> {
    return this.#state.participants;
  }
  get chat(): ChatMessage[] {
    return this.#state.chat;
  }
  get self(): ParticipantInfo | undefined {
    return this.#state.self;
  }
  get meeting(): MeetingSummary | undefined {
    return this.#state.meeting;
  }
  get activeSpeakerId(): string | null {
    return this.#state.activeSpeakerId;
  }
  get presentation(): Presentation | null {
    return this.#state.presentation;
  }
  /** What the others publish, as last announced by the server (paused = muted). */
  get remoteProducers(): ReadonlyMap<string, ProducerInfo> {
    return this.#state.remoteProducers;
  }
  /** Remote tracks by producer id. */
  get remoteTracks(): Map<string, RemoteTrack> {
    return this.#media.remoteTracks;
  }
  /** The codec this client publishes video with, as the meeting's policy says now (see `videoCodecChanged`). */
  get videoCodec(): VideoCodec | undefined {
    return this.#media.videoCodec;
  }
  /** The send and receive transports, for stats. */
  get transports(): { send?: ms.Transport; recv?: ms.Transport } {
    return this.#media.transports;
  }

  /**
   * Uploads a deck; conversion runs in the background and reports through `fileUpdated`. Takes
   * a `Blob`/`File` (browsers, Node 18+) or a `{ uri, name, type }` reference (React Native).
   */
  uploadFile(file: BlobLike | FileReference, name?: string): Promise<FileInfo> {
    return this.#files.upload(file, name);
  }

  /** The URL of a page image of a converted deck, carrying this client's token. */
  pageUrl(fileId: string, page: number): string {
    return this.#files.pageUrl(fileId, page);
  }

  async present(fileId: string, page?: number): Promise<Presentation> {
    const { presentation } = await this.request('presentStart', { fileId, page });
    this.#state.presentation = presentation;
    return presentation;
  }

  async turnPage(page: number): Promise<Presentation> {
    const { presentation } = await this.request('presentPage', { page });
    this.#state.presentation = presentation;
    return presentation;
  }

  async stopPresenting(): Promise<void> {
    await this.request('presentStop', {});
    this.#state.presentation = null;
  }

  request<N extends ClientMessageName>(name: N, payload: ClientMessage<N> | Record<string, unknown>): Promise<ClientResults[N]> {
    return this.#signalling.request(name, payload);
  }

  /** Sends any event, even one outside the protocol (for testing servers' edges). */
  raw(event: string, ...args: unknown[]): Promise<unknown> {
    return this.#signalling.raw(event, ...args);
  }

  publish(track: MediaTrack, source: MediaSource, options: PublishOptions = {}): Promise<ms.Producer> {
    return this.#media.publish(track, source, options);
  }

  unpublish(source: MediaSource): Promise<void> {
    return this.#media.unpublish(source);
  }

  setMuted(source: MediaSource, muted: boolean): Promise<void> {
    return this.#media.setMuted(source, muted);
  }

  isPublishing(source: MediaSource): boolean {
    return this.#media.publication(source) !== undefined;
  }

  publication(source: MediaSource): ms.Producer | undefined {
    return this.#media.publication(source);
  }

  async sendChat(text: string): Promise<ChatMessage> {
    const { message } = await this.request('chat', { text });
    this.#state.addOwnChat(message);
    return message;
  }

  async moderate(action: ClientMessage<'moderate'>): Promise<void> {
    await this.request('moderate', action);
  }

  /** Raises (or lowers) your hand; everyone sees `handRaisedAt` on your participant. */
  async raiseHand(raised = true): Promise<ParticipantInfo> {
    const { participant } = await this.request('raiseHand', { raised });
    this.#state.apply.participantUpdated({ participant });
    return participant;
  }

  /** A host lowers someone's hand. */
  lowerHand(participantId: string): Promise<void> {
    return this.moderate({ action: 'lowerHand', participantId });
  }

  /** Sends a passing reaction to everyone else (`reaction` event on their side). */
  async react(reaction: Reaction): Promise<void> {
    await this.request('react', { reaction });
  }

  async setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    await this.request('setConsumerPreferredLayers', { consumerId, spatialLayer, temporalLayer });
  }

  /** Subscribes to one remote producer; a no-op if already subscribed. */
  subscribe(producerId: string): Promise<void> {
    return this.#media.subscribe(producerId);
  }

  async leave(): Promise<void> {
    if (this.#closed) return;
    // While disconnected there is no one to tell: the seat is released after the grace period.
    if (this.connected) await this.request('leave', {}).catch(() => undefined);
    this.#shutdown('left');
  }

  /** Kills the live connection as a network failure would; socket.io then reconnects. */
  disconnectTransportForTest(): void {
    this.#signalling.dropTransport();
  }

  /** Drops the connection without leaving, as a crashed tab would. */
  disconnectAbruptly(): void {
    this.#signalling.disconnect();
    this.#media.close();
  }

  async #connect(routerRtpCapabilities?: Record<string, unknown>): Promise<void> {
    // The device loads while the socket connects when the HTTP join brought the capabilities.
    const loading = routerRtpCapabilities ? this.#media.load(routerRtpCapabilities) : undefined;
    loading?.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
    await this.#signalling.opened();
    try {
      await loading;
      this.#joining = this.#joinSeat(true);
      await this.#joining;
    } catch (error) {
      // Nobody gets a client to close after a failed join: close the connection here.
      this.#shutdown('join_failed');
      throw error;
    } finally {
      this.#joining = undefined;
    }
  }

  /**
   * Takes the seat. The first join asks for its transports and, when subscribing to everyone,
   * the consumers of what is already published, in the same round trip; a server that does not
   * make them leaves them out and they are asked for one by one. A rejoin after an outage asks
   * for nothing: it keeps or rebuilds what it had (see {@link #recover}).
   */
  async #joinSeat(first = false): Promise<JoinResult> {
    const rtpCapabilities = await this.#media.load();
    const consume = first && this.options.autoSubscribe !== false;
    const result = await this.request('join', {
      rtpCapabilities: rtpCapabilities as unknown as Record<string, unknown>,
      kind: this.options.kind,
      receiveVideo: this.options.receiveVideo,
      ...(first && { transports: this.options.willPublish === false ? ['recv'] : ['recv', 'send'], consume }),
    });
    this.#token = result.sessionToken;
    // A rejoin can come long after the HTTP join: its TURN credential replaces that one.
    if (result.iceServers) await this.#media.updateIceServers(result.iceServers);
    this.#state.applyJoin(result);
    if (first) this.#media.adoptJoin(result);
    // On a rejoin the codec may have changed while we were away: what we publish follows it.
    if (result.videoCodec) this.#background(this.#media.setVideoCodec(result.videoCodec));
    this.emit('joined', result);
    await this.#media.ensureRecvTransport();
    this.#subscribeAll();
    return result;
  }

  #subscribeAll(): void {
    for (const producer of this.#state.remoteProducers.values()) if (this.#wants(producer)) this.#background(this.#media.subscribe(producer.id));
  }

  /** Whether to subscribe on our own: not when told not to, and no video for an audio-only join. */
  #wants(producer: ProducerInfo): boolean {
    return this.options.autoSubscribe !== false && (producer.kind === 'audio' || this.options.receiveVideo !== false);
  }

  /** Connects the parts: server events to the mirror and the media session, their events to the application. */
  #wire(): void {
    const signalling = this.#signalling;
    const state = this.#state;
    const media = this.#media;
    for (const event of MIRRORED) signalling.onEvent(event, state.apply[event] as (payload: unknown) => void);
    const forward = <E extends keyof ClientEvents>(source: Pick<Emitter<Pick<ClientEvents, E>>, 'on'>, events: readonly E[]) => {
      for (const event of events) source.on(event, (...args) => this.emit(event, ...args));
    };
    forward(state, [
      'participantJoined',
      'participantUpdated',
      'participantLeft',
      'producerUpdated',
      'activeSpeaker',
      'chatMessage',
      'meetingUpdated',
      'presentation',
      'fileUpdated',
    ]);
    forward(media, ['track', 'trackEnded', 'error', 'iceRestart']);
    // A transport the server no longer has cannot be restarted: rebuild, keeping the seat.
    media.on('transportLost', () => this.#background(this.#recoverOnce(true)));

    signalling.onEvent('producerAdded', ({ producer }) => {
      if (producer.participantId === this.participantId || !this.#wants(producer)) return;
      // During the first join, wait for its answer: it may bring this consumer, and the
      // receive transport the subscription needs.
      const joining = this.#joining;
      const subscribe = async () => {
        if (!this.#closed) await media.subscribe(producer.id);
      };
      this.#background(joining === undefined ? subscribe() : joining.then(subscribe, subscribe));
    });
    signalling.onEvent('videoCodecChanged', ({ codec }) => {
      if (codec === media.videoCodec) return;
      this.emit('videoCodecChanged', codec);
      this.#background(media.setVideoCodec(codec));
    });
    signalling.onEvent('producerClosed', ({ producerId }) => media.dropProducer(producerId));
    signalling.onEvent('consumerClosed', ({ producerId }) => media.dropProducer(producerId));
    signalling.onEvent('reaction', (payload) => this.emit('reaction', payload));
    signalling.onEvent('moderation', (payload) => {
      this.emit('moderation', payload);
      if (payload.action === 'mute' && payload.source) media.pauseLocal(payload.source);
      if (payload.action === 'remove' || payload.action === 'end') this.#shutdown(payload.action === 'end' ? 'ended' : 'removed');
    });
    signalling.onEvent('mediaReset', () => this.#background(this.#recoverOnce(true)));
    signalling.onEvent('meetingEnded', ({ reason }) => this.#shutdown(reason));
    signalling.onEvent('protocolError', (payload) => this.emit('error', new ConveneError(payload.code, payload.message)));

    signalling.on('disconnect', () => {
      if (!this.#closed) this.emit('reconnecting');
    });
    signalling.on('connect', ({ recovered }) => {
      if (state.everJoined && !recovered) this.#background(this.#recoverOnce());
    });
    // Refused while away: socket.io does not retry a refused handshake, so end here rather
    // than wait forever (removed while away, when the moderation event never arrived; or the
    // servers no longer speak this client's protocol version).
    signalling.on('refused', (error) => {
      if (!state.everJoined) return;
      if (error.code === 'token_revoked') this.#shutdown('removed');
      else if (error.code === 'unsupported_protocol') this.#shutdown('unsupported_protocol');
    });
  }

  /** Work started from an event handler: a failure reaches the application as an 'error' event. */
  #background(work: Promise<unknown>): void {
    work.catch((error: unknown) => this.emit('error', error instanceof Error ? error : new Error(String(error))));
  }

  #recoverOnce(forceRebuild = false): Promise<void> {
    this.#recovering ??= this.#recover(forceRebuild).finally(() => {
      this.#recovering = undefined;
    });
    return this.#recovering;
  }

  /**
   * Seat first, then media: restart ICE where the server kept our transports, else (or when the
   * server says our media node is gone) make new transports and publish again.
   */
  async #recover(forceRebuild = false): Promise<void> {
    if (this.#closed || !this.#state.everJoined) return;
    const publications = this.#media.publications();
    if (forceRebuild) this.#media.close();
    let result: JoinResult;
    try {
      result = await this.#joinSeat();
    } catch (error) {
      if (error instanceof ConveneError && error.code === 'token_revoked') this.#shutdown('removed');
      else if (error instanceof ConveneError && (error.code === 'participant_not_found' || error.code === 'meeting_ended')) {
        this.#shutdown(error.code);
      } else this.emit('error', error as Error);
      return;
    }
    const rebuild = forceRebuild || !result.resumed || (await this.#media.restartIce('resumed')) !== 'restarted';
    if (rebuild) {
      if (!forceRebuild) {
        // The server may still hold the old transports (and their producers): free them, as
        // they count against this participant's limits. Best effort: they may be gone already.
        const abandoned = this.#media.close();
        await Promise.all(abandoned.map((transportId) => this.request('closeTransport', { transportId }).catch(() => undefined)));
      }
      await this.#media.ensureRecvTransport();
      this.#subscribeAll();
      await this.#media.republish(publications);
    } else {
      // Producers closed while we were away must go; new ones were subscribed on joining.
      await this.#media.resync(this.#state.remoteProducers);
      // A subscribe that failed during the outage (after joining had asked for them all) is
      // asked again; the ones held or under way are no-ops.
      this.#subscribeAll();
    }
    this.emit('reconnected', { rebuilt: rebuild });
  }

  /**
   * The host's network changed (back online, another connection type): the path our media took
   * may be gone, so restart ICE on the transports we have, keeping them; rebuild only if the
   * server lost them. While signalling is down the seat's recovery does this when it is back.
   */
  async #networkChanged(): Promise<void> {
    if (this.#closed || !this.#state.everJoined || !this.connected || this.#recovering !== undefined) return;
    if ((await this.#media.restartIce('network')) === 'lost') await this.#recoverOnce(true);
  }

  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatchNetwork();
    this.#media.close();
    this.#signalling.close();
    this.emit('closed', { reason });
  }
}
