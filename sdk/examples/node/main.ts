/**
 * The SDK in Node on @roamhq/wrtc: a bot that joins, says a tone for a few seconds, prints who
 * is there and leaves. Import from `@convene/sdk/node`, which installs the WebRTC classes
 * before mediasoup-client loads, and pass its `NODE_HANDLER`. Node 18+ has `fetch`,
 * `FormData` and `Blob`, so uploads work as in a browser.
 *
 *   node main.ts http://localhost:3000 <meetingId>
 */
import { ConveneClient, NODE_HANDLER, wrtc } from '@convene/sdk/node';

const [baseUrl = 'http://localhost:3000', meetingId = 'demo'] = process.argv.slice(2);

const client = await ConveneClient.join({ baseUrl, meetingId, name: 'Node example', handlerName: NODE_HANDLER, kind: 'bot' });
client.on('participantJoined', (participant) => console.log(`${participant.name} joined`));

const source = new wrtc.nonstandard.RTCAudioSource();
const samples = new Int16Array(480);
let phase = 0;
const tone = setInterval(() => {
  for (let i = 0; i < samples.length; i++) {
    phase += (2 * Math.PI * 440) / 48_000;
    samples[i] = Math.round(8000 * Math.sin(phase));
  }
  source.onData({ samples, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
}, 10);
const track = source.createTrack();
await client.publish(track, 'mic');

console.log('in the meeting with', [...client.participants.values()].map((p) => p.name).join(', '));
await new Promise((resolve) => setTimeout(resolve, 5000));
clearInterval(tone);
track.stop();
await client.leave();
