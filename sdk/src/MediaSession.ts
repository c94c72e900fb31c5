import type { ConsumerOptions, IceServer, JoinResult, MediaSource, TransportOptions, VideoCodec } from '@convene/protocol';
import { Device } from 'mediasoup-client';
import type { types as ms } from 'mediasoup-client';
import { ConveneError } from './ConveneError.ts';
import { Emitter } from './Emitter.ts';
import { IceRecovery, type RestartOutcome } from './IceRecovery.ts';
import type { ClientEvents, IceRestartReason, MediaTrack, RemoteTrack, Requester } from './types.ts';
import { restrictVideoCodecs, sendCodec } from './videoCodecs.ts';

export type { Requester } from './types.ts';

export interface LocalPublication {
  source: MediaSource;
  track: MediaTrack;
  producer: ms.Producer;
  simulcast: boolean;
}

/** How the transports reach the server: TURN/STUN servers, and whether to relay only. */
export interface IceSettings {
  iceServers?: IceServer[];
  iceTransportPolicy?: 'all' | 'relay';
  /** The application chose the servers (`JoinOptions.iceServers`): keep them, whatever the server hands out later. */
  fixed?: boolean;
}

export interface PublishOptions {
  simulcast?: boolean;
  paused?: boolean;
}

type MediaEvents = Pick<ClientEvents, 'track' | 'trackEnded' | 'error' | 'iceRestart'> & {
  /** The server no longer has a transport whose ICE we tried to restart: media must be rebuilt. */
  transportLost: [string];
};

/**
 * Loaded devices by handler and router capabilities, shared by the clients of this process.
 * Loading asks the browser for its own capabilities through two throw-away peer connections;
 * the answer cannot change while the process runs, and a device holds no state of a client (each
 * makes its own transports from it), so a page that joins again, or a process running many bots,
 * pays for it once.
 */
const devices = new Map<string, Promise<Device>>();

function loadedDevice(handlerName: ms.BuiltinHandlerName | undefined, routerRtpCapabilities: ms.RtpCapabilities): Promise<Device> {
  const key = `${handlerName ?? ''} ${JSON.stringify(routerRtpCapabilities)}`;
  let loading = devices.get(key);
  if (!loading) {
    loading = (async () => {
      const device = handlerName ? new Device({ handlerName }) : new Device();
      await device.load({ routerRtpCapabilities });
      return device;
    })();
    devices.set(key, loading);
    // A failed load is not kept: the next client tries again.
    loading.catch(() => devices.delete(key));
  }
  return loading;
}

/**
 * This participant's media through mediasoup-client: the device, the send and receive
 * transports mirrored from the server, what it publishes and what it consumes. Signalling
 * reaches it only as a {@link Requester}.
 */
export class MediaSession extends Emitter<MediaEvents> {
  /** Remote tracks by producer id. */
  readonly remoteTracks = new Map<string, RemoteTrack>();
  #device?: Device;
  #sendTransport?: ms.Transport;
  #recvTransport?: ms.Transport;
  #recvPending?: Promise<ms.Transport>;
  readonly #publications = new Map<MediaSource, LocalPublication>();
  readonly #consuming = new Map<string, Promise<void>>();
  /** The meeting's codec for video, as the server last said; undefined before joining (or from an older server). */
  #videoCodec?: VideoCodec;
  /** Codec switches run one after another, so that two quick changes never republish the same source twice at once. */
  #switching: Promise<void> = Promise.resolve();
  #loading?: Promise<Device>;

  readonly #request: Requester;
  readonly #handlerName?: ms.BuiltinHandlerName;
  readonly #mayRestartIce: () => boolean;
  readonly #iceSettings: IceSettings;
  /** The servers new transports get, and that a fresh TURN credential from the server replaces. */
  #iceServers?: IceServer[];
  readonly #receivableVideo?: readonly VideoCodec[];
  readonly #ice: IceRecovery;
  constructor(
    request: Requester,
    handlerName: ms.BuiltinHandlerName | undefined,
    mayRestartIce: () => boolean,
    receivableVideo?: readonly VideoCodec[],
    iceSettings: IceSettings = {},
  ) {
    super();
    this.#request = request;
    this.#handlerName = handlerName;
    this.#mayRestartIce = mayRestartIce;
    this.#iceSettings = iceSettings;
    this.#iceServers = iceSettings.iceServers;
    this.#receivableVideo = receivableVideo;
    this.#ice = new IceRecovery({
      request,
      refreshIceServers: (servers) => this.updateIceServers(servers),
      mayRestart: () => this.#mayRestartIce(),
      restarted: (restart) => this.emit('iceRestart', restart),
      lost: (transportId) => this.emit('transportLost', transportId),
    });
  }

  /**
   * Loads the device with the router's capabilities (once) and returns this client's. Given the
   * capabilities (the HTTP join answer carries them), it needs no request, so it can run while
   * the socket connects.
   */
  async load(routerRtpCapabilities?: Record<string, unknown>): Promise<ms.RtpCapabilities> {
    this.#loading ??= (async () => {
      const rtpCapabilities = routerRtpCapabilities ?? (await this.#request('getRouterRtpCapabilities', {})).rtpCapabilities;
      const device = await loadedDevice(this.#handlerName, rtpCapabilities as ms.RtpCapabilities);
      this.#device = device;
      return device;
    })().catch((error: unknown) => {
      this.#loading = undefined;
      throw error;
    });
    const caps = (await this.#loading).rtpCapabilities;
    return this.#receivableVideo ? restrictVideoCodecs(caps, this.#receivableVideo) : caps;
  }

  /**
   * Takes the transports and consumers a join answer brought (the `join` message's `transports`
   * and `consume`). Every consumer is handed to mediasoup-client in this one tick, so they are
   * negotiated together and the receive transport connects once, with all of them in place;
   * the server made them resumed, so nothing more is asked.
   */
  adoptJoin({ transports, consumers }: Pick<JoinResult, 'transports' | 'consumers'>): void {
    if (transports?.recv && !this.#liveRecv()) this.#recvTransport = this.#mirror('recv', transports.recv);
    if (transports?.send && !(this.#sendTransport && !this.#sendTransport.closed)) this.#sendTransport = this.#sending(this.#mirror('send', transports.send));
    const transport = this.#liveRecv();
    if (!transport || transport.id !== transports?.recv?.id) return;
    for (const options of consumers ?? []) {
      if (this.#consuming.has(options.producerId)) continue;
      this.#track(options.producerId, this.#receive(transport, options));
    }
  }

  get videoCodec(): VideoCodec | undefined {
    return this.#videoCodec;
  }

  /**
   * The meeting's video codec is now `codec`: video already published is published again with
   * it (its producer closed, a new one made on the same transport), so receivers that could
   * not decode the old one get a stream they can. Nobody rejoins.
   */
  setVideoCodec(codec: VideoCodec): Promise<void> {
    if (codec === this.#videoCodec) return Promise.resolve();
    this.#videoCodec = codec;
    return this.#queueSwitch(async () => {
      for (const publication of this.publications()) {
        if (publication.track.kind === 'video') await this.#reproduce(publication);
      }
    });
  }

  #queueSwitch(work: () => Promise<void>): Promise<void> {
    const next = this.#switching.then(work);
    this.#switching = next.catch(() => undefined);
    return next;
  }

  get transports(): { send?: ms.Transport; recv?: ms.Transport } {
    return { send: this.#sendTransport, recv: this.#recvTransport };
  }

  async publish(track: MediaTrack, source: MediaSource, options: PublishOptions = {}): Promise<ms.Producer> {
    const transport = await this.#ensureSendTransport();
    const simulcast = options.simulcast ?? source === 'camera';
    const codec = track.kind === 'video' ? this.#videoCodec : undefined;
    const producer = await transport.produce({
      track,
      codec: sendCodec(this.#device!.rtpCapabilities, codec),
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
    const publication = { source, track, producer, simulcast };
    this.#publications.set(source, publication);
    // The codec changed while this was being produced: the switch did not see it, so redo it here.
    // Queued, not awaited: this publish may itself be part of a switch.
    if (track.kind === 'video' && codec !== this.#videoCodec) this.#queueSwitch(() => this.#reproduce(publication)).catch((error: unknown) => this.emit('error', error as Error));
    return producer;
  }

  /** Publishes one publication again with the current codec, keeping its track, simulcast and mute. */
  async #reproduce(publication: LocalPublication): Promise<void> {
    // Unpublished, replaced or rebuilt meanwhile: nothing of ours to redo.
    if (this.#publications.get(publication.source) !== publication || publication.producer.closed || publication.track.readyState !== 'live') return;
    const paused = publication.producer.paused;
    this.#publications.delete(publication.source);
    publication.producer.close();
    await this.#request('closeProducer', { producerId: publication.producer.id }).catch(() => undefined);
    await this.publish(publication.track, publication.source, { simulcast: publication.simulcast, paused });
  }

  async unpublish(source: MediaSource): Promise<void> {
    const publication = this.#publications.get(source);
    if (!publication) return;
    this.#publications.delete(source);
    publication.producer.close();
    await this.#request('closeProducer', { producerId: publication.producer.id }).catch(() => undefined);
  }

  async setMuted(source: MediaSource, muted: boolean): Promise<void> {
    const publication = this.#publications.get(source);
    if (!publication) return;
    if (muted) publication.producer.pause();
    else publication.producer.resume();
    await this.#request(muted ? 'pauseProducer' : 'resumeProducer', { producerId: publication.producer.id });
  }

  /** A moderator muted this source on the server: stop sending too. */
  pauseLocal(source: MediaSource): void {
    this.#publications.get(source)?.producer.pause();
  }

  publication(source: MediaSource): ms.Producer | undefined {
    return this.#publications.get(source)?.producer;
  }

  publications(): LocalPublication[] {
    return [...this.#publications.values()];
  }

  /** Subscribes to one remote producer; a no-op if already subscribed. */
  async subscribe(producerId: string): Promise<void> {
    if (!this.#consuming.has(producerId)) this.#track(producerId, this.#consume(producerId));
    return this.#consuming.get(producerId);
  }

  /** Records a subscription under way; its failure reaches the application as an 'error' event. */
  #track(producerId: string, consuming: Promise<unknown>): void {
    const work = consuming.then(
      () => undefined,
      (error: unknown) => {
        this.#consuming.delete(producerId);
        if (error instanceof ConveneError && error.code === 'not_found') return; // closed meanwhile
        this.emit('error', error as Error);
      },
    );
    this.#consuming.set(producerId, work);
  }

  /** The remote producer is gone: end its track. */
  dropProducer(producerId: string): void {
    this.#consuming.delete(producerId);
    const remote = this.remoteTracks.get(producerId);
    if (!remote) return;
    this.remoteTracks.delete(producerId);
    remote.consumer.close();
    this.emit('trackEnded', remote);
  }

  /**
   * Takes the ICE servers the server handed out with a fresh TURN credential (a rejoin's or an
   * ICE restart's answer): the transports use them from their next gathering on, and new
   * transports get them. The credential of the HTTP join runs out after the server's TURN TTL, and
   * coturn refuses a new allocation made with it. Servers the application chose stay.
   */
  async updateIceServers(servers: IceServer[]): Promise<void> {
    if (this.#iceSettings.fixed) return;
    this.#iceServers = servers;
    for (const transport of [this.#sendTransport, this.#recvTransport]) {
      if (!transport || transport.closed) continue;
      await transport.updateIceServers({ iceServers: servers }).catch(() => undefined);
    }
  }

  /**
   * Restarts ICE on both transports: `restarted` when every open one was (or there is none),
   * `lost` when the server no longer has one (media must be rebuilt), else `unreachable`.
   */
  async restartIce(reason: IceRestartReason): Promise<RestartOutcome> {
    const outcomes: RestartOutcome[] = [];
    for (const transport of [this.#sendTransport, this.#recvTransport]) {
      if (!transport || transport.closed) continue;
      outcomes.push(await this.#ice.restart(transport, reason).catch((): RestartOutcome => 'lost'));
    }
    if (outcomes.includes('lost')) return 'lost';
    return outcomes.every((o) => o === 'restarted') ? 'restarted' : 'unreachable';
  }

  /** After a resumed seat: ends tracks of producers closed meanwhile, and resumes the consumers held. */
  async resync(remoteProducers: ReadonlyMap<string, unknown>): Promise<void> {
    for (const [producerId] of this.remoteTracks) if (!remoteProducers.has(producerId)) this.dropProducer(producerId);
    // A consume whose resume was cut off by the outage left its consumer paused on the
    // server; resuming is idempotent, so ask again for every consumer we hold.
    await Promise.all([...this.remoteTracks.values()].map((remote) => this.#request('resumeConsumer', { consumerId: remote.consumerId }).catch(() => undefined)));
  }

  /** Publishes again, on new transports, the tracks that are still live. */
  async republish(publications: LocalPublication[]): Promise<void> {
    for (const publication of publications) {
      if (publication.track.readyState === 'live') await this.publish(publication.track, publication.source, { simulcast: publication.simulcast });
    }
  }

  /** Closes every transport and track here; returns the transport ids the server may still hold. */
  close(): string[] {
    const ids = [this.#sendTransport, this.#recvTransport].filter((t) => t !== undefined).map((t) => t.id);
    this.#ice.stop();
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    this.#sendTransport = undefined;
    this.#recvTransport = undefined;
    this.#publications.clear();
    for (const producerId of [...this.remoteTracks.keys()]) this.dropProducer(producerId);
    this.#consuming.clear();
    return ids;
  }

  #liveRecv(): ms.Transport | undefined {
    return this.#recvTransport && !this.#recvTransport.closed ? this.#recvTransport : undefined;
  }

  async ensureRecvTransport(): Promise<ms.Transport> {
    const live = this.#liveRecv();
    if (live) return live;
    this.#recvPending ??= (async () => {
      const transport = await this.#createTransport('recv');
      this.#recvTransport = transport;
      return transport;
    })().finally(() => {
      this.#recvPending = undefined;
    });
    return this.#recvPending;
  }

  async #consume(producerId: string): Promise<void> {
    const transport = await this.ensureRecvTransport();
    const options = await this.#request('consume', { producerId });
    // consume is idempotent on the server: asked again after an answer or a resume was cut off
    // by a network drop, it returns the consumer we may already hold. Then only make sure it runs.
    const held = this.remoteTracks.get(producerId);
    if (held && held.consumerId === options.id && !held.consumer.closed) {
      await this.#request('resumeConsumer', { consumerId: held.consumerId });
      return;
    }
    const remote = await this.#receive(transport, options);
    await this.#request('resumeConsumer', { consumerId: remote.consumerId });
  }

  /** Mirrors a server consumer on the receive transport and announces its track. */
  async #receive(transport: ms.Transport, options: ConsumerOptions): Promise<RemoteTrack> {
    const { producerId } = options;
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
    // Announced before any resume: if the resume is cut off, a later subscribe resumes this one.
    this.emit('track', remote);
    return remote;
  }

  async #ensureSendTransport(): Promise<ms.Transport> {
    if (this.#sendTransport && !this.#sendTransport.closed) return this.#sendTransport;
    this.#sendTransport = this.#sending(await this.#createTransport('send'));
    return this.#sendTransport;
  }

  /** A send transport asks the server to produce what mediasoup-client produces on it. */
  #sending(transport: ms.Transport): ms.Transport {
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      this.#request('produce', {
        transportId: transport.id,
        kind,
        rtpParameters: rtpParameters as unknown as Record<string, unknown>,
        source: appData.source as MediaSource,
        paused: appData.paused as boolean,
      })
        .then(({ producerId }) => callback({ id: producerId }))
        .catch(errback);
    });
    return transport;
  }

  async #createTransport(direction: 'send' | 'recv'): Promise<ms.Transport> {
    return this.#mirror(direction, await this.#request('createTransport', { direction }));
  }

  /** A transport made on the server, mirrored by mediasoup-client, with connection handling. */
  #mirror(direction: 'send' | 'recv', options: TransportOptions): ms.Transport {
    const params = {
      id: options.id,
      iceParameters: options.iceParameters as ms.IceParameters,
      iceCandidates: options.iceCandidates as ms.IceCandidate[],
      dtlsParameters: options.dtlsParameters as ms.DtlsParameters,
      iceServers: this.#iceServers?.length ? this.#iceServers : undefined,
      iceTransportPolicy: this.#iceSettings.iceTransportPolicy,
    };
    const transport = direction === 'send' ? this.#device!.createSendTransport(params) : this.#device!.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as unknown as Record<string, unknown> })
        .then(() => callback())
        .catch((error: unknown) => {
          errback(error as Error);
          // mediasoup-client asks to connect a transport only once: one whose connect was lost
          // (a network drop mid-consume) can never carry media. Drop it, here and on the
          // server, so the next publish or subscribe makes a new one.
          transport.close();
          this.#request('closeTransport', { transportId: transport.id }).catch(() => undefined);
        });
    });
    this.#ice.watch(transport);
    return transport;
  }
}
