import { VIDEO_CODECS, type VideoCodec, type VideoCodecSetting } from '../protocol/src/index.ts';

const MIME: Record<string, VideoCodec> = { 'video/vp8': 'vp8', 'video/h264': 'h264', 'video/vp9': 'vp9' };

/**
 * The video codecs a client says it can receive, read from the `rtpCapabilities` it joins
 * with, limited to what the router offers (media/codecs.ts). H264 counts only with
 * packetization-mode 1, the only mode the router offers. The input is the client's: anything
 * not shaped like a codec is ignored, never trusted.
 */
export function decodableVideoCodecs(rtpCapabilities: Record<string, unknown>): VideoCodec[] {
  const codecs = Array.isArray(rtpCapabilities.codecs) ? (rtpCapabilities.codecs as unknown[]) : [];
  const found = new Set<VideoCodec>();
  for (const codec of codecs) {
    if (typeof codec !== 'object' || codec === null) continue;
    const { mimeType, parameters } = codec as { mimeType?: unknown; parameters?: unknown };
    const name = typeof mimeType === 'string' ? MIME[mimeType.toLowerCase()] : undefined;
    if (!name) continue;
    if (name === 'h264' && Number((parameters as Record<string, unknown> | undefined)?.['packetization-mode'] ?? 0) !== 1) continue;
    found.add(name);
  }
  return VIDEO_CODECS.filter((c) => found.has(c));
}

/**
 * The codec a meeting publishes video with. A set codec is used as it is. Under `auto`: the
 * first of VP8, H264, VP9 (cheapest to encode, then hardware-friendly, then bandwidth-saving)
 * that every video receiver can decode; when none is common to all (a VP8-only and an
 * H264-only device together), the one the most can decode, so that the fewest go without;
 * with no video receivers at all, VP8.
 */
export function chooseVideoCodec(setting: VideoCodecSetting, receivers: ReadonlyArray<readonly VideoCodec[]>): VideoCodec {
  if (setting !== 'auto') return setting;
  let best: VideoCodec = VIDEO_CODECS[0];
  let bestCount = -1;
  for (const codec of VIDEO_CODECS) {
    const count = receivers.filter((decodable) => decodable.includes(codec)).length;
    if (count === receivers.length) return codec;
    if (count > bestCount) {
      best = codec;
      bestCount = count;
    }
  }
  return best;
}

/** Whether a device that decodes `decodable` can receive video in a meeting with this setting. */
export function canReceiveVideo(setting: VideoCodecSetting, decodable: readonly VideoCodec[]): boolean {
  return setting === 'auto' ? decodable.length > 0 : decodable.includes(setting);
}
