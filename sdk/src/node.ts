/**
 * The SDK in Node, on @roamhq/wrtc (bots, load tests, servers that join meetings).
 * mediasoup-client finds the WebRTC classes on globalThis when it is first evaluated, so they
 * are installed here before the SDK is imported: import the client from this module.
 */
import wrtc from '@roamhq/wrtc';

Object.assign(globalThis, {
  RTCPeerConnection: wrtc.RTCPeerConnection,
  RTCSessionDescription: wrtc.RTCSessionDescription,
  RTCIceCandidate: wrtc.RTCIceCandidate,
  MediaStream: wrtc.MediaStream,
  MediaStreamTrack: wrtc.MediaStreamTrack,
  RTCRtpSender: wrtc.RTCRtpSender,
  RTCRtpReceiver: wrtc.RTCRtpReceiver,
  RTCRtpTransceiver: wrtc.RTCRtpTransceiver,
});

const sdk = await import('./index.ts');
export const { ConveneClient, ConveneError } = sdk;
export type ConveneClient = import('./ConveneClient.ts').ConveneClient;
export type ConveneError = import('./ConveneError.ts').ConveneError;
export type * from './index.ts';
export { wrtc };
/** The handler mediasoup-client needs on @roamhq/wrtc. */
export const NODE_HANDLER = 'Chrome111' as const;
