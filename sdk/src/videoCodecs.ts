import type { VideoCodec } from '@convene/protocol';
import type { types as ms } from 'mediasoup-client';

const MIME: Record<VideoCodec, string> = { vp8: 'video/vp8', h264: 'video/h264', vp9: 'video/vp9' };

/**
 * The device's receive capabilities with only the given video codecs left (and the RTX that
 * repairs them): what a client that must not be sent the others (a device that cannot decode
 * them, or a test forcing H264) tells the server on joining. Audio is untouched.
 */
export function restrictVideoCodecs(caps: ms.RtpCapabilities, allowed: readonly VideoCodec[]): ms.RtpCapabilities {
  const keep = new Set(allowed.map((c) => MIME[c]));
  const codecs = caps.codecs ?? [];
  const dropped = new Set(
    codecs.filter((c) => c.kind === 'video' && !isRtx(c) && !keep.has(c.mimeType.toLowerCase())).map((c) => c.preferredPayloadType),
  );
  return {
    ...caps,
    codecs: codecs.filter((c) => {
      if (c.kind !== 'video') return true;
      if (isRtx(c)) return !dropped.has(Number(c.parameters?.apt));
      return !dropped.has(c.preferredPayloadType);
    }),
  };
}

/** The capability to `produce({ codec })` with, for a video codec; undefined when the device cannot send it (mediasoup-client then takes its first). */
export function sendCodec(caps: ms.RtpCapabilities, codec: VideoCodec | undefined): ms.RtpCodecCapability | undefined {
  if (!codec) return undefined;
  return caps.codecs?.find((c) => c.kind === 'video' && c.mimeType.toLowerCase() === MIME[codec] && (codec !== 'h264' || Number(c.parameters?.['packetization-mode']) === 1));
}

function isRtx(codec: ms.RtpCodecCapability): boolean {
  return codec.mimeType.toLowerCase() === 'video/rtx';
}
