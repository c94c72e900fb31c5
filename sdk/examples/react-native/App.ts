/**
 * The SDK in React Native with react-native-webrtc (type-checked only; react-native-webrtc's
 * surface is declared in ./react-native-webrtc.d.ts rather than installed):
 * - `registerGlobals()` installs RTCPeerConnection, MediaStream and friends on globalThis, and
 *   must run before the SDK (and mediasoup-client in it) is first imported;
 * - mediasoup-client cannot detect React Native: pass `handlerName: 'ReactNative106'`, its
 *   Unified Plan handler for react-native-webrtc ≥ 106;
 * - React Native's `FormData` takes a file as `{ uri, name, type }` and reads it itself, so
 *   `uploadFile` is given that instead of a Blob.
 */
import { mediaDevices, registerGlobals } from 'react-native-webrtc';

registerGlobals();
const { ConveneClient } = await import('@convene/sdk');

export async function joinFromPhone(baseUrl: string, meetingId: string, name: string) {
  const client = await ConveneClient.join({ baseUrl, meetingId, name, handlerName: 'ReactNative106' });
  const media = await mediaDevices.getUserMedia({ audio: true, video: true });
  for (const track of media.getTracks()) await client.publish(track, track.kind === 'audio' ? 'mic' : 'camera');
  client.on('track', (remote) => {
    // Hand remote.track to an <RTCView streamURL={new MediaStream([remote.track]).toURL()} />.
    console.log('remote', remote.kind, 'from', remote.participantId);
  });
  return client;
}

/** A document picked with a picker library: React Native names local files by URI. */
export async function uploadPicked(client: Awaited<ReturnType<typeof joinFromPhone>>, picked: { uri: string; name: string; mimeType: string }) {
  return client.uploadFile({ uri: picked.uri, name: picked.name, type: picked.mimeType });
}
