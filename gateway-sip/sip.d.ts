// The `sip` package (kirm/sip.js) ships no types; these cover the parts Convene uses.
declare module 'sip' {
  export interface SipUri {
    schema: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params: Record<string, string | null | undefined>;
    headers: Record<string, string>;
  }
  export interface SipMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    // Header values are strings or the library's parsed structures, depending on the header.
    // biome-ignore lint/suspicious/noExplicitAny: the library's parsed headers are loosely shaped
    headers: Record<string, any>;
    content?: string;
  }
  export function parse(data: Buffer | string): SipMessage | undefined;
  export function stringify(message: SipMessage): string;
  export function parseUri(uri: string): SipUri | undefined;
  export function stringifyUri(uri: SipUri | string): string;
  export function makeResponse(request: SipMessage, status: number, reason?: string, extension?: { headers?: Record<string, unknown>; content?: string }): SipMessage;
  export function makeStreamParser(onMessage: (m: SipMessage) => void, onFlood?: () => void, maxBytesHeaders?: number, maxContentLength?: number): (data: string) => void;
  export function generateBranch(): string;
}

declare module 'sip/digest.js' {
  import type { SipMessage } from 'sip';
  export interface DigestContext {
    realm: string;
    nonce?: string;
    proxy?: boolean;
    qop?: string;
  }
  export function challenge(ctx: DigestContext, response: SipMessage): SipMessage;
  export function authenticateRequest(ctx: DigestContext, request: SipMessage, creds: { user: string; password: string }): boolean;
}

declare module 'sip/sdp.js' {
  export interface SdpMedia {
    media: string;
    port: number;
    proto: string;
    fmt: number[];
    a?: string[];
    c?: { nettype: string; addrtype: string; address: string };
  }
  export interface Sdp {
    v?: string;
    o?: unknown;
    s?: string;
    c?: { nettype: string; addrtype: string; address: string };
    t?: string;
    a?: string[];
    m: SdpMedia[];
  }
  export function parse(sdp: string): Sdp;
  export function stringify(sdp: Sdp): string;
}
