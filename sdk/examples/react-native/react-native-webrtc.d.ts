/**
 * The part of react-native-webrtc this example uses, declared here so that the example
 * type-checks without installing React Native. The real package ships its own types.
 */
declare module 'react-native-webrtc' {
  export function registerGlobals(): void;
  export class MediaStream {
    constructor(tracks?: MediaStreamTrack[]);
    getTracks(): MediaStreamTrack[];
    toURL(): string;
  }
  export class MediaStreamTrack {
    readonly id: string;
    readonly kind: 'audio' | 'video';
    readonly readyState: 'live' | 'ended';
    stop(): void;
  }
  export const mediaDevices: {
    getUserMedia(constraints: { audio?: boolean; video?: boolean }): Promise<MediaStream>;
  };
}
