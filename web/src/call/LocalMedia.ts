import { signal } from '@preact/signals';
import { type DeviceChoice, MediaError, type MediaProblem, openCamera, openMic } from '../media/devices.ts';
import type { ConveneClient } from '../session.ts';

/**
 * This person's microphone, camera and screen in the call: opens devices, publishes through the
 * SDK and switches devices. Whether each is on is read back from the SDK's producers (see
 * CallStore), so a host's mute shows here the moment the server says so.
 */
export class LocalMedia {
  readonly #client: ConveneClient;
  readonly #changed: () => void;
  readonly choice = signal<DeviceChoice>({ facing: 'user' });
  readonly cameraTrack = signal<MediaStreamTrack | null>(null);
  readonly screenTrack = signal<MediaStreamTrack | null>(null);
  /** The last device problem, shown until the next success. */
  readonly problem = signal<MediaProblem | null>(null);
  readonly #tracks = new Map<'mic' | 'camera' | 'screen', MediaStreamTrack>();
  #hiddenPause = false;

  constructor(client: ConveneClient, choice: DeviceChoice, changed: () => void) {
    this.#client = client;
    this.#changed = changed;
    this.choice.value = choice;
  }

  /** Publishes what the person chose on the prejoin screen; a refused device leaves it off. */
  async start(options: { mic: boolean; camera: boolean; micTrack?: MediaStreamTrack; cameraTrack?: MediaStreamTrack }): Promise<void> {
    const mic = options.micTrack ?? (await this.#open('mic').catch(() => undefined));
    // Publish the microphone even when it starts muted, so that unmuting is instant.
    if (mic) await this.#publish('mic', mic, { paused: !options.mic });
    if (options.camera) {
      const camera = options.cameraTrack ?? (await this.#open('camera').catch(() => undefined));
      if (camera) await this.#publish('camera', camera);
    } else options.cameraTrack?.stop();
    this.#changed();
  }

  async toggleMic(): Promise<void> {
    const producer = this.#client.publication('mic');
    if (!producer) {
      await this.#publish('mic', await this.#open('mic'));
    } else {
      // mediasoup-client disables the track while its producer is paused: nothing leaves.
      await this.#client.setMuted('mic', !producer.paused);
    }
    this.#changed();
  }

  async toggleCamera(): Promise<void> {
    const producer = this.#client.publication('camera');
    // Paused by a host: the button shows it off, so a click turns it back on.
    if (producer?.paused) await this.#client.setMuted('camera', false);
    else if (producer) await this.#unpublish('camera');
    else await this.#publish('camera', await this.#open('camera'));
    this.#changed();
  }

  async toggleScreen(): Promise<void> {
    if (this.#client.isPublishing('screen')) {
      await this.#unpublish('screen');
    } else {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
      const track = stream.getVideoTracks()[0]!;
      // The browser's own "Stop sharing" bar ends the track: unpublish with it.
      track.addEventListener('ended', () => {
        if (this.#tracks.get('screen') === track) this.#unpublish('screen').then(this.#changed, () => undefined);
      });
      await this.#publish('screen', track);
    }
    this.#changed();
  }

  /** Uses another device: republishes with a new track (the SDK republishes only live tracks after an outage). */
  async choose(next: Partial<DeviceChoice>): Promise<void> {
    this.choice.value = { ...this.choice.value, ...next };
    // Close the old device first: phones cannot open two cameras at once.
    if (next.micId !== undefined && this.#client.isPublishing('mic')) {
      const paused = this.#client.publication('mic')?.paused ?? false;
      await this.#unpublish('mic');
      await this.#publish('mic', await this.#open('mic'), { paused });
    }
    if ((next.cameraId !== undefined || next.facing !== undefined) && this.#client.isPublishing('camera')) {
      await this.#unpublish('camera');
      await this.#publish('camera', await this.#open('camera'));
    }
    this.#changed();
  }

  /** Front to back camera and back again (phones). */
  async flipCamera(): Promise<void> {
    await this.choose({ facing: this.choice.value.facing === 'user' ? 'environment' : 'user', cameraId: undefined });
  }

  /**
   * A phone whose page is hidden stops sending video (the OS may freeze the camera anyway);
   * it comes back when the page does.
   */
  async pageHidden(hidden: boolean): Promise<void> {
    const producer = this.#client.publication('camera');
    if (hidden && producer && !producer.paused) {
      this.#hiddenPause = true;
      await this.#client.setMuted('camera', true);
    } else if (!hidden && this.#hiddenPause) {
      this.#hiddenPause = false;
      if (producer) await this.#client.setMuted('camera', false);
    }
    this.#changed();
  }

  stopAll(): void {
    for (const track of this.#tracks.values()) track.stop();
    this.#tracks.clear();
    this.cameraTrack.value = null;
    this.screenTrack.value = null;
  }

  async #open(kind: 'mic' | 'camera'): Promise<MediaStreamTrack> {
    try {
      const track = kind === 'mic' ? await openMic(this.choice.value) : await openCamera(this.choice.value);
      this.problem.value = null;
      return track;
    } catch (error) {
      this.problem.value = error instanceof MediaError ? error.problem : 'failed';
      throw error;
    }
  }

  async #publish(source: 'mic' | 'camera' | 'screen', track: MediaStreamTrack, options: { paused?: boolean } = {}): Promise<void> {
    try {
      await this.#client.publish(track, source, options);
    } catch (error) {
      track.stop();
      throw error;
    }
    this.#tracks.set(source, track);
    if (source === 'camera') this.cameraTrack.value = track;
    if (source === 'screen') this.screenTrack.value = track;
  }

  async #unpublish(source: 'mic' | 'camera' | 'screen'): Promise<void> {
    await this.#client.unpublish(source);
    this.#tracks.get(source)?.stop();
    this.#tracks.delete(source);
    if (source === 'camera') this.cameraTrack.value = null;
    if (source === 'screen') this.screenTrack.value = null;
  }
}
