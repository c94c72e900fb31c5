// The one module that reaches into the SDK and the protocol. When they become packages
// (@convene/sdk, @convene/protocol), only these imports change.
import type { ConveneClient } from '../../sdk/ConveneClient.ts';

export { ConveneClient, ConveneError } from '../../sdk/ConveneClient.ts';
export type { JoinOptions, RemoteTrack } from '../../sdk/ConveneClient.ts';
export type { ChatMessage, FileInfo, MediaSource, MeetingSummary, ParticipantInfo, Presentation, ProducerInfo } from '../../protocol/src/index.ts';

declare global {
  interface Window {
    /** The live client once joined: tests and the browser console drive it. */
    convene?: ConveneClient;
  }
}
