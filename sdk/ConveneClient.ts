import { Device } from 'mediasoup-client';
import type { types as ms } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ChatMessage,
  ClientMessage,
  FileInfo,
  ClientMessageName,
  ClientResults,
  JoinResult,
  MediaSource,
  MeetingSummary,
  ParticipantInfo,
  Presentation,
  ProducerInfo,
  ServerEvents,
} from '../protocol/src/index.ts';
import { Emitter } from './Emitter.ts';

export class ConveneError extends Error {
  readonly code: string;
  readonly details?: unknown;
  constructor(
    code: string,
    message: string,
    details?: unknown,
  ) {
    super(message);
    this.code = code;
    this.details = details;
    this.name = 'ConveneError';
  }
}

export interface RemoteTrack {
  consumerId: string;
  producerId: string;
  participantId: string;
  source: MediaSource;
  kind: 'audio' | 'video';
  track: MediaStreamTrack;
  consumer: ms.Consumer;
}

export type ClientEvents = {
  joined: [JoinResult];
  participantJoined: [ParticipantInfo];
  participantUpdated: [ParticipantInfo];
  participantLeft: [{ participantId: string; reason: string }];
  track: [RemoteTrack];
  trackEnded: [RemoteTrack];
  producerUpdated: [ProducerInfo];
  activeSpeaker: [string | null];
  chatMessage: [ChatMessage];
  meetingUpdated: [MeetingSummary];
  presentation: [Presentation | null];
  fileUpdated: [FileInfo, { deleted: boolean }];
  moderation: [ServerEvents['moderation']];
  /** The connection dropped; the SDK is trying to get the seat back. */
  reconnecting: [];
  /** The seat is back; `rebuilt` says whether media transports had to be made anew. */
  reconnected: [{ rebuilt: boolean }];
  /** The session is over: left, removed, ended or the seat was lost. */
  closed: [{ reason: string }];
  error: [Error];
};

export interface JoinOptions {
  baseUrl: string;
  meetingId: string;
  name: string;
  password?: string;
  hostKey?: string;
  /** mediasoup-client handler, e.g. 'Chrome111' for @roamhq/wrtc in Node; detected in browsers. */
  handlerName?: ms.BuiltinHandlerName;
  kind?: 'browser' | 'bot';
  /** Subscribe to every remote producer automatically (default true). */
  autoSubscribe?: boolean;
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * Push nodes to connect to, in order of preference (default: `baseUrl`). When a connection
   * is lost, each reconnection attempt tries the next one, so a dead push node is skipped.
   */
  signalingUrls?: string[];
}

interface LocalPublication {
  source: MediaSource;
  track: MediaStreamTrack;
  producer: ms.Producer;
  simulcast: boolean;
}

/**
 * Typed client for the Convene protocol: joins by link, publishes and subscribes through
 * mediasoup-client, and recovers a dropped connection by reclaiming its seat, restarting ICE,
 * and rebuilding transports only if the server lost them.
 */
export class ConveneClient extends Emitter<ClientEvents> {
  readonly participants = new Map<string, ParticipantInfo>();
  readonly remoteTracks = new Map<string, RemoteTrack>();
  self?: ParticipantInfo;
  meeting?: MeetingSummary;
  activeSpeakerId: string | null = null;
  presentation: Presentation | null = null;
  readonly chat: ChatMessage[] = [];

  #socket?: Socket;
  #device?: Device;
  #sendTransport?: ms.Transport;
  #recvTransport?: ms.Transport;
  readonly #publications = new Map<MediaSource, LocalPublication>();
  readonly #remoteProducers = new Map<string, ProducerInfo>();
  readonly #consuming = new Map<string, Promise<void>>();
  #token: string;
  #closed = false;
  #everJoined = false;

  readonly options: JoinOptions;
  readonly participantId: string;
  private constructor(options: JoinOptions, token: string, participantId: string) {
    super();
    this.options = options;
    this.participantId = participantId;
    this.#token = token;
  }

  /** Asks the API for a join token with the meeting link, then connects and joins. */
  static async join(options: JoinOptions): Promise<ConveneClient> {
    const doFetch = options.fetch ?? fetch;
    const res = await doFetch(`${options.baseUrl}/v1/meetings/${encodeURIComponent(options.meetingId)}/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: options.name, password: options.password, hostKey: options.hostKey }),
    });
    const body = (await res.json()) as { token?: string; participantId?: string; code?: string; detail?: string };
    if (!res.ok || !body.token || !body.participantId) throw new ConveneError(body.code ?? 'http_error', body.detail ?? `join failed: HTTP ${res.status}`);
    const client = new ConveneClient(options, body.token, body.participantId);
    await client.#connect();
    return client;
  }

  /** Joins with a token obtained elsewhere (a server that minted it, say). */
  static async withToken(options: Omit<JoinOptions, 'name'> & { token: string; participantId: string }): Promise<ConveneClient> {
    const client = new ConveneClient({ ...options, name: '' }, options.token, options.participantId);
    await client.#connect();
    return client;
  }

  get connected(): boolean {
    return this.#socket?.connected ?? false;
  }

  /** The token for HTTP calls about this meeting (files, page images): `?token=` or Bearer. */
  get token(): string {
    return this.#token;
  }

  /** Uploads a deck; conversion runs in the background and reports through `fileUpdated`. */
  async uploadFile(file: Blob, name: string): Promise<FileInfo> {
    const form = new FormData();
    form.append('file', file, name);
    const doFetch = this.options.fetch ?? fetch;
    const res = await doFetch(`${this.options.baseUrl}/v1/meetings/${encodeURIComponent(this.options.meetingId)}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#token}` },
      body: form,
    });
    const body = (await res.json()) as FileInfo & { code?: string; detail?: string };
    if (!res.ok) throw new ConveneError(body.code ?? 'http_error', body.detail ?? `upload failed: HTTP ${res.status}`);
    return body;
  }

  /** The URL of a page image of a converted deck, carrying this client's token. */
  pageUrl(fileId: string, page: number): string {
    return `${this.options.baseUrl}/v1/meetings/${encodeURIComponent(this.options.meetingId)}/files/${fileId}/pages/${page}?token=${encodeURIComponent(this.#token)}`;
  }

  async present(fileId: string, page?: number): Promise<Presentation> {
    const { presentation } = await this.request('presentStart', { fileId, page });
    this.presentation = presentation;
    return presentation;
  }

  async turnPage(page: number): Promise<Presentation> {
    const { presentation } = await this.request('presentPage', { page });
    this.presentation = presentation;
    return presentation;
  }

  async stopPresenting(): Promise<void> {
    await this.request('presentStop', {});
    this.presentation = null;
  }

  /** What the others publish, as last announced by the server (paused = muted). */
  get remoteProducers(): ReadonlyMap<string, ProducerInfo> {
    return this.#remoteProducers;
  }

  /** The send and receive transports, for stats. */
  get transports(): { send?: ms.Transport; recv?: ms.Transport } {
    return { send: this.#sendTransport, recv: this.#recvTransport };
  }

  async request<N extends ClientMessageName>(name: N, payload: ClientMessage<N> | Record<string, unknown>): Promise<ClientResults[N]> {
    const socket = this.#socket;
    if (!socket) throw new ConveneError('not_connected', 'not connected');
    const reply = (await socket.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck(name, payload)) as Ack<ClientResults[N]>;
    if (!reply.ok) throw new ConveneError(reply.error.code, reply.error.message, reply.error.details);
    return reply.data;
  }

  /** Sends any event, even one outside the protocol (for testing servers' edges). */
  async raw(event: string, ...args: unknown[]): Promise<unknown> {
    return this.#socket?.timeout(this.options.requestTimeoutMs ?? 10_000).emitWithAck(event, ...args);
  }

  async publish(track: MediaStreamTrack, source: MediaSource, options: { simulcast?: boolean; paused?: boolean } = {}): Promise<ms.Producer> {
    const transport = await this.#ensureSendTransport();
    const simulcast = options.simulcast ?? source === 'camera';
    const producer = await transport.produce({
      track,
      encodings: simulcast
        ? [
            { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
            { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
            { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
          ]
        : undefined,
      codecOptions: track.kind === 'audio' ? { opusDtx: true, opusFec: true } : undefined,
      stopTracks: false,
      appData: { source, paused: options.paused ?? false },
    });
    if (options.paused) producer.pause();
    this.#publications.set(source, { source, track, producer, simulcast });
    return producer;
  }

  async unpublish(source: MediaSource): Promise<void> {
    const publication = this.#publications.get(source);
    if (!publication) return;
    this.#publications.delete(source);
    publication.producer.close();
    await this.request('closeProducer', { producerId: publication.producer.id }).catch(() => undefined);
  }

  async setMuted(source: MediaSource, muted: boolean): Promise<void> {
    const publication = this.#publications.get(source);
    if (!publication) return;
    if (muted) publication.producer.pause();
    else publication.producer.resume();
    await this.request(muted ? 'pauseProducer' : 'resumeProducer', { producerId: publication.producer.id });
  }

  isPublishing(source: MediaSource): boolean {
    return this.#publications.has(source);
  }

  publication(source: MediaSource): ms.Producer | undefined {
    return this.#publications.get(source)?.producer;
  }

  async sendChat(text: string): Promise<ChatMessage> {
    const { message } = await this.request('chat', { text });
    this.chat.push(message);
    this.emit('chatMessage', message);
    return message;
  }

  async moderate(action: ClientMessage<'moderate'>): Promise<void> {
    await this.request('moderate', action);
  }

  async setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    await this.request('setConsumerPreferredLayers', { consumerId, spatialLayer, temporalLayer });
  }

  /** Subscribes to one remote producer; a no-op if already subscribed. */
  async subscribe(producerId: string): Promise<void> {
    if (this.#consuming.has(producerId)) return this.#consuming.get(producerId);
    const work = this.#consume(producerId).catch(async (error: unknown) => {
      this.#consuming.delete(producerId);
      if (error instanceof ConveneError && error.code === 'not_found') return; // closed meanwhile
      // We hold that consumer already (an earlier consume whose answer was cut off): make sure it runs.
      const held = this.remoteTracks.get(producerId);
      if (error instanceof ConveneError && error.code === 'already_consuming' && held && (error.details as { consumerId?: string } | undefined)?.consumerId === held.consumerId) {
        this.#consuming.set(producerId, Promise.resolve());
        await this.request('resumeConsumer', { consumerId: held.consumerId }).catch(() => undefined);
        return;
      }
      this.emit('error', error as Error);
    });
    this.#consuming.set(producerId, work);
    return work;
  }

  async leave(): Promise<void> {
    if (this.#closed) return;
    // While disconnected there is no one to tell: the seat is released after the grace period.
    if (this.connected) await this.request('leave', {}).catch(() => undefined);
    this.#shutdown('left');
  }

  /** Kills the live connection as a network failure would; socket.io then reconnects. */
  disconnectTransportForTest(): void {
    this.#socket?.io.engine?.close();
  }

  /** Drops the connection without leaving, as a crashed tab would. */
  disconnectAbruptly(): void {
    this.#socket?.disconnect();
    this.#closeMedia();
  }

  async #connect(): Promise<void> {
    const urls = this.options.signalingUrls?.length ? this.options.signalingUrls : [this.options.baseUrl];
    const socket = io(urls[0]!, {
      path: '/socket.io',
      transports: ['websocket'],
      auth: (cb) => cb({ token: this.#token, meetingId: this.options.meetingId }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 2000,
    });
    this.#socket = socket;
    if (urls.length > 1) {
      // The manager builds each attempt's connection from `uri`: rotate it to skip a dead node.
      socket.io.on('reconnect_attempt', (attempt) => {
        (socket.io as unknown as { uri: string }).uri = urls[attempt % urls.length]!;
      });
    }
    this.#listen(socket);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { data?: { code: string; message: string } }) => {
        socket.off('connect', onConnect);
        socket.disconnect();
        reject(new ConveneError(err.data?.code ?? 'connect_failed', err.data?.message ?? err.message));
      };
      const onConnect = () => {
        socket.off('connect_error', onError);
        resolve();
      };
      socket.once('connect_error', onError);
      socket.once('connect', onConnect);
    });
    try {
      await this.#joinSeat();
    } catch (error) {
      // Nobody gets a client to close after a failed join: close the connection here.
      this.#shutdown('join_failed');
      throw error;
    }
  }

  async #joinSeat(): Promise<JoinResult> {
    if (!this.#device) {
      const { rtpCapabilities } = await this.request('getRouterRtpCapabilities', {});
      const device = this.options.handlerName ? new Device({ handlerName: this.options.handlerName }) : new Device();
      await device.load({ routerRtpCapabilities: rtpCapabilities as ms.RtpCapabilities });
      this.#device = device;
    }
    const result = await this.request('join', {
      rtpCapabilities: this.#device.rtpCapabilities as unknown as Record<string, unknown>,
      kind: this.options.kind,
    });
    this.#token = result.sessionToken;
    this.self = result.self;
    this.meeting = result.meeting;
    this.activeSpeakerId = result.activeSpeakerId;
    this.presentation = result.presentation;
    this.participants.clear();
    for (const p of result.participants) this.participants.set(p.id, p);
    if (!this.#everJoined) this.chat.push(...result.chat);
    this.#everJoined = true;
    this.#remoteProducers.clear();
    for (const p of result.producers) if (p.participantId !== this.participantId) this.#remoteProducers.set(p.id, p);
    this.emit('joined', result);
    await this.#ensureRecvTransport();
    if (this.options.autoSubscribe !== false) for (const id of this.#remoteProducers.keys()) this.#background(this.subscribe(id));
    return result;
  }

  #listen(socket: Socket): void {
    const on = <E extends keyof ServerEvents>(event: E, handler: (payload: ServerEvents[E]) => void) =>
      socket.on(event as string, handler as (payload: unknown) => void);

    on('participantJoined', ({ participant }) => {
      this.participants.set(participant.id, participant);
      this.emit('participantJoined', participant);
    });
    on('participantUpdated', ({ participant }) => {
      this.participants.set(participant.id, participant);
      this.emit('participantUpdated', participant);
    });
    on('participantLeft', ({ participantId, reason }) => {
      if (participantId === this.participantId) return;
      this.participants.delete(participantId);
      this.emit('participantLeft', { participantId, reason });
    });
    on('producerAdded', ({ producer }) => {
      if (producer.participantId === this.participantId) return;
      this.#remoteProducers.set(producer.id, producer);
      if (this.options.autoSubscribe !== false) this.#background(this.subscribe(producer.id));
    });
    on('producerUpdated', ({ producer }) => {
      if (producer.participantId !== this.participantId) this.#remoteProducers.set(producer.id, producer);
      this.emit('producerUpdated', producer);
    });
    on('producerClosed', ({ producerId }) => {
      this.#remoteProducers.delete(producerId);
      this.#dropProducer(producerId);
    });
    on('consumerClosed', ({ producerId }) => this.#dropProducer(producerId));
    on('activeSpeaker', ({ participantId }) => {
      this.activeSpeakerId = participantId;
      this.emit('activeSpeaker', participantId);
    });
    on('chatMessage', ({ message }) => {
      this.chat.push(message);
      this.emit('chatMessage', message);
    });
    on('meetingUpdated', ({ meeting }) => {
      this.meeting = meeting;
      this.emit('meetingUpdated', meeting);
    });
    on('moderation', (payload) => {
      this.emit('moderation', payload);
      if (payload.action === 'mute' && payload.source) {
        const publication = this.#publications.get(payload.source);
        publication?.producer.pause();
      }
      if (payload.action === 'remove' || payload.action === 'end') this.#shutdown(payload.action === 'end' ? 'ended' : 'removed');
    });
    on('mediaReset', () => this.#background(this.#recoverOnce(true)));
    on('meetingEnded', ({ reason }) => this.#shutdown(reason));
    on('presentation', ({ presentation }) => {
      this.presentation = presentation;
      this.emit('presentation', presentation);
    });
    on('fileUpdated', ({ file, deleted }) => this.emit('fileUpdated', file, { deleted: deleted ?? false }));
    on('protocolError', (payload) => this.emit('error', new ConveneError(payload.code, payload.message)));

    socket.on('disconnect', (reason) => {
      if (this.#closed) return;
      if (reason === 'io server disconnect') {
        // The server closed us on purpose (a newer connection took the seat, or we were
        // removed); socket.io does not retry this on its own.
        setTimeout(() => !this.#closed && socket.connect(), 500);
      }
      this.emit('reconnecting');
    });
    socket.on('connect', () => {
      if (this.#everJoined && !socket.recovered) this.#background(this.#recoverOnce());
    });
    // Removed while away (the moderation event never arrived): the handshake says so, and
    // socket.io does not retry a refused handshake, so end here rather than wait forever.
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      if (this.#everJoined && err.data?.code === 'token_revoked') this.#shutdown('removed');
    });
  }

  #recovering?: Promise<void>;
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
    if (this.#closed || !this.#everJoined) return;
    const publications = [...this.#publications.values()];
    if (forceRebuild) this.#closeMedia();
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
    let rebuild = forceRebuild || !result.resumed;
    for (const transport of rebuild ? [] : [this.#sendTransport, this.#recvTransport]) {
      if (!transport || transport.closed) continue;
      try {
        const { iceParameters } = await this.request('restartIce', { transportId: transport.id });
        await transport.restartIce({ iceParameters: iceParameters as ms.IceParameters });
      } catch {
        rebuild = true;
      }
    }
    if (rebuild) {
      if (!forceRebuild) {
        // The server may still hold the old transports (and their producers): free them, as
        // they count against this participant's limits. Best effort: they may be gone already.
        const abandoned = [this.#sendTransport, this.#recvTransport].filter((t) => t !== undefined).map((t) => t.id);
        this.#closeMedia();
        await Promise.all(abandoned.map((transportId) => this.request('closeTransport', { transportId }).catch(() => undefined)));
      }
      await this.#ensureRecvTransport();
      if (this.options.autoSubscribe !== false) for (const id of this.#remoteProducers.keys()) this.#background(this.subscribe(id));
      for (const publication of publications) {
        if (publication.track.readyState === 'live') await this.publish(publication.track, publication.source, { simulcast: publication.simulcast });
      }
    } else {
      // Producers closed while we were away must go; new ones were subscribed on joining.
      for (const [producerId] of this.remoteTracks) if (!this.#remoteProducers.has(producerId)) this.#dropProducer(producerId);
      // A consume whose resume was cut off by the outage left its consumer paused on the
      // server; resuming is idempotent, so ask again for every consumer we hold.
      await Promise.all([...this.remoteTracks.values()].map((remote) => this.request('resumeConsumer', { consumerId: remote.consumerId }).catch(() => undefined)));
    }
    this.emit('reconnected', { rebuilt: rebuild });
  }

  #closeMedia(): void {
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#sendTransport = undefined;
    this.#recvTransport = undefined;
    this.#publications.clear();
    for (const producerId of [...this.remoteTracks.keys()]) this.#dropProducer(producerId);
    this.#consuming.clear();
  }

  async #consume(producerId: string): Promise<void> {
    const transport = await this.#ensureRecvTransport();
    const options = await this.request('consume', { producerId });
    const consumer = await transport.consume({
      id: options.id,
      producerId: options.producerId,
      kind: options.kind,
      rtpParameters: options.rtpParameters as ms.RtpParameters,
      // One stream per person for microphone and camera, so the browser syncs their lips and
      // voice (mediasoup >= 3.25 stamps sender reports with capture time, which that relies on);
      // a screen share is a stream of its own.
      streamId: `${options.participantId}-${options.source === 'screen' ? 'screen' : 'av'}`,
      appData: { participantId: options.participantId, source: options.source },
    });
    const remote: RemoteTrack = {
      consumerId: consumer.id,
      producerId,
      participantId: options.participantId,
      source: options.source,
      kind: options.kind,
      track: consumer.track,
      consumer,
    };
    this.remoteTracks.set(producerId, remote);
    await this.request('resumeConsumer', { consumerId: consumer.id });
    this.emit('track', remote);
  }

  #dropProducer(producerId: string): void {
    this.#consuming.delete(producerId);
    const remote = this.remoteTracks.get(producerId);
    if (!remote) return;
    this.remoteTracks.delete(producerId);
    remote.consumer.close();
    this.emit('trackEnded', remote);
  }

  async #ensureSendTransport(): Promise<ms.Transport> {
    if (this.#sendTransport && !this.#sendTransport.closed) return this.#sendTransport;
    const transport = await this.#createTransport('send');
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      this.request('produce', {
        transportId: transport.id,
        kind,
        rtpParameters: rtpParameters as unknown as Record<string, unknown>,
        source: appData.source as MediaSource,
        paused: appData.paused as boolean,
      })
        .then(({ producerId }) => callback({ id: producerId }))
        .catch(errback);
    });
    this.#sendTransport = transport;
    return transport;
  }

  #recvPending?: Promise<ms.Transport>;
  async #ensureRecvTransport(): Promise<ms.Transport> {
    if (this.#recvTransport && !this.#recvTransport.closed) return this.#recvTransport;
    this.#recvPending ??= (async () => {
      const transport = await this.#createTransport('recv');
      this.#recvTransport = transport;
      return transport;
    })().finally(() => {
      this.#recvPending = undefined;
    });
    return this.#recvPending;
  }

  /** A transport made on the server, mirrored by mediasoup-client, with connection handling. */
  async #createTransport(direction: 'send' | 'recv'): Promise<ms.Transport> {
    const options = await this.request('createTransport', { direction });
    const params = {
      id: options.id,
      iceParameters: options.iceParameters as ms.IceParameters,
      iceCandidates: options.iceCandidates as ms.IceCandidate[],
      dtlsParameters: options.dtlsParameters as ms.DtlsParameters,
    };
    const transport = direction === 'send' ? this.#device!.createSendTransport(params) : this.#device!.createRecvTransport(params);
    this.#wireTransport(transport);
    return transport;
  }

  #wireTransport(transport: ms.Transport): void {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as unknown as Record<string, unknown> })
        .then(() => callback())
        .catch(errback);
    });
    transport.on('connectionstatechange', (state) => {
      if (state !== 'failed' || this.#closed || !this.connected) return;
      this.request('restartIce', { transportId: transport.id })
        .then(({ iceParameters }) => transport.restartIce({ iceParameters: iceParameters as ms.IceParameters }))
        .catch(() => undefined);
    });
  }

  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeMedia();
    this.#socket?.disconnect();
    this.emit('closed', { reason });
  }
}
