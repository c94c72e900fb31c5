import type { types } from 'mediasoup';

/**
 * Opus for every voice; VP8, H264 and VP9 for video, so that every meeting codec setting (and
 * every `auto` choice, see meeting/videoCodecs.ts) has a codec on the router. H264 is constrained
 * baseline with packetization-mode 1, what Safari, the WeChat webview and hardware encoders share.
 */
export const ROUTER_MEDIA_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 0, 'x-google-start-bitrate': 1000 } },
];
