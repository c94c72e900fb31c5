import type { ConveneClient, RemoteTrack } from '../session.ts';

interface Wanted {
  visible: boolean;
  /** On-screen height of the tile in CSS pixels. */
  height: number;
}

/** The simulcast layer worth receiving for a tile this tall (r0 quarter, r1 half, r2 full size). */
export function layerFor(height: number): number {
  const pixels = height * (typeof devicePixelRatio === 'number' ? Math.min(devicePixelRatio, 2) : 1);
  if (pixels >= 540) return 2;
  if (pixels >= 240) return 1;
  return 0;
}

/**
 * Receives only the video a person can see, at the size they see it: pauses consumers whose
 * tile is off-screen or on another page, and asks for the simulcast layer that fits the tile.
 * Requests go out only when the wish changes.
 */
export class VideoSubscriptions {
  readonly #client: ConveneClient;
  readonly #sent = new Map<string, { paused: boolean; layer?: number }>();

  constructor(client: ConveneClient) {
    this.#client = client;
    // After an outage the SDK resumes every consumer: what we asked before no longer holds.
    client.on('reconnected', () => this.#sent.clear());
    client.on('trackEnded', (remote) => this.#sent.delete(remote.consumerId));
  }

  want(remote: RemoteTrack, wanted: Wanted): void {
    if (remote.kind !== 'video') return;
    const before = this.#sent.get(remote.consumerId) ?? { paused: false };
    const now = { paused: !wanted.visible, layer: remote.source === 'camera' && wanted.visible ? layerFor(wanted.height) : before.layer };
    this.#sent.set(remote.consumerId, now);
    const consumerId = remote.consumerId;
    const quiet = () => undefined; // a consumer closed meanwhile: nothing to adjust
    if (now.paused !== before.paused) this.#client.request(now.paused ? 'pauseConsumer' : 'resumeConsumer', { consumerId }).catch(quiet);
    if (!now.paused && now.layer !== undefined && now.layer !== before.layer) this.#client.setPreferredLayers(consumerId, now.layer).catch(quiet);
  }

  isPaused(consumerId: string): boolean {
    return this.#sent.get(consumerId)?.paused ?? false;
  }
}
