/**
 * The SDK in a browser page: join by link, publish the microphone and camera, play what the
 * others publish. Bundle it with any bundler (esbuild: `esbuild main.ts --bundle --format=esm`);
 * mediasoup-client detects the browser's handler by itself.
 */
import { ConveneClient, type RemoteTrack } from '@convene/sdk';

export async function joinMeeting(baseUrl: string, meetingId: string, name: string, stage: HTMLElement): Promise<ConveneClient> {
  const client = await ConveneClient.join({ baseUrl, meetingId, name });
  const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  for (const track of media.getTracks()) await client.publish(track, track.kind === 'audio' ? 'mic' : 'camera');

  const elements = new Map<string, HTMLMediaElement>();
  client.on('track', (remote: RemoteTrack) => {
    const element = document.createElement(remote.kind === 'audio' ? 'audio' : 'video');
    element.autoplay = true;
    element.srcObject = new MediaStream([remote.track]);
    elements.set(remote.consumerId, element);
    stage.append(element);
  });
  client.on('trackEnded', (remote) => {
    elements.get(remote.consumerId)?.remove();
    elements.delete(remote.consumerId);
  });
  client.on('closed', ({ reason }) => console.log('meeting over:', reason));
  return client;
}

/** A deck picked with <input type="file">: a browser `File` is a `Blob` with a name. */
export async function uploadDeck(client: ConveneClient, input: HTMLInputElement): Promise<void> {
  const file = input.files?.[0];
  if (file) await client.uploadFile(file);
}
