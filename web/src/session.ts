// The one module that reaches into the SDK and the protocol packages: the rest of the client
// imports from here.
import type { ConveneClient } from '@convene/sdk';

export { ConveneClient, ConveneError } from '@convene/sdk';
export type { JoinOptions, RemoteTrack } from '@convene/sdk';
export type { ChatMessage, FileInfo, MediaSource, MeetingSummary, ParticipantInfo, Presentation, ProducerInfo, Reaction, VideoCodec } from '@convene/protocol';

declare global {
  interface Window {
    /** The live client once joined: tests and the browser console drive it. */
    convene?: ConveneClient;
  }
}
