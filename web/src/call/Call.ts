import { isTouchDevice, type DeviceChoice } from '../media/devices.ts';
import { ConveneClient, ConveneError, type JoinOptions, type VideoCodec } from '../session.ts';
import { AudioPlayback } from './AudioPlayback.ts';
import { CallStore } from './CallStore.ts';
import { DeckPresenter } from './DeckPresenter.ts';
import { LocalMedia } from './LocalMedia.ts';
import { QualityMonitor } from './QualityMonitor.ts';
import { VideoSubscriptions } from './VideoSubscriptions.ts';

export interface JoinSettings {
  meetingId: string;
  name: string;
  password?: string;
  hostKey?: string;
  mic: boolean;
  camera: boolean;
  choice: DeviceChoice;
  /** Tracks the prejoin preview opened, handed over so the browser need not ask again. */
  micTrack?: MediaStreamTrack;
  cameraTrack?: MediaStreamTrack;
  /** Media only through TURN (the link's `?relay=1`). */
  relay?: boolean;
  /** Receive only these video codecs (the link's `?codecs=`). */
  videoCodecs?: VideoCodec[];
}

/** One session in a meeting: the client and everything the call screen works with. */
export class Call {
  readonly client: ConveneClient;
  readonly store: CallStore;
  readonly media: LocalMedia;
  readonly videos: VideoSubscriptions;
  readonly quality: QualityMonitor;
  readonly audio: AudioPlayback;
  readonly deck: DeckPresenter;
  readonly settings: JoinSettings;
  readonly #onVisibility = () => {
    this.media.pageHidden(document.visibilityState === 'hidden').catch(() => undefined);
  };

  private constructor(client: ConveneClient, settings: JoinSettings) {
    this.client = client;
    this.settings = settings;
    this.store = new CallStore(client);
    this.media = new LocalMedia(client, settings.choice, () => this.store.sync());
    this.videos = new VideoSubscriptions(client);
    this.quality = new QualityMonitor(client);
    this.audio = new AudioPlayback();
    this.deck = new DeckPresenter(client, () => this.store.sync());
    if (isTouchDevice()) document.addEventListener('visibilitychange', this.#onVisibility);
    client.on('closed', () => this.#teardown());
  }

  static async join(settings: JoinSettings): Promise<Call> {
    const options: JoinOptions = {
      baseUrl: location.origin,
      meetingId: settings.meetingId,
      name: settings.name,
      password: settings.password || undefined,
      hostKey: settings.hostKey,
      iceTransportPolicy: settings.relay ? 'relay' : undefined,
      videoCodecs: settings.videoCodecs,
    };
    const client = await ConveneClient.join(options).catch((error: unknown) => {
      // A device that can decode none of the meeting's video still hears and is heard.
      if (error instanceof ConveneError && error.code === 'codec_unsupported') return ConveneClient.join({ ...options, receiveVideo: false });
      throw error;
    });
    window.convene = client;
    return new Call(client, settings);
  }

  /** Publishes the chosen media; failures leave that device off and say why. */
  async startMedia(): Promise<void> {
    const { mic, camera, micTrack, cameraTrack } = this.settings;
    await this.media.start({ mic, camera, micTrack, cameraTrack }).catch(() => this.store.say('mediaFailed'));
  }

  async leave(): Promise<void> {
    await this.client.leave();
  }

  #teardown(): void {
    this.media.stopAll();
    this.quality.close();
    this.audio.close();
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }
}
