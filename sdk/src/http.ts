import type { FileInfo, IceServer } from '@convene/protocol';
import { ConveneError } from './ConveneError.ts';
import { type BlobLike, type FetchLike, type FileReference, fileForm, hostFetch, type ResponseLike } from './platform.ts';

/** A problem+json body, as the API answers a refusal. */
type Problem = { code?: string; detail?: string };

async function answer<T>(res: ResponseLike, what: string): Promise<T> {
  const body = (await res.json()) as T & Problem;
  if (!res.ok) throw new ConveneError(body.code ?? 'http_error', body.detail ?? `${what} failed: HTTP ${res.status}`);
  return body;
}

export interface JoinTicket {
  token: string;
  participantId: string;
  /** STUN/TURN servers from the join answer (TURN with a time-limited credential). */
  iceServers: IceServer[];
  /** The meeting router's capabilities, when the server sends them: the device loads with them while the socket connects. */
  rtpCapabilities?: Record<string, unknown>;
}

/** Asks the API for a join token with the meeting link (`POST /v1/meetings/:id/join`). */
export async function requestJoinToken(options: {
  baseUrl: string;
  meetingId: string;
  name: string;
  password?: string;
  hostKey?: string;
  fetch?: FetchLike;
}): Promise<JoinTicket> {
  const doFetch = options.fetch ?? hostFetch();
  const res = await doFetch(`${options.baseUrl}/v1/meetings/${encodeURIComponent(options.meetingId)}/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: options.name, password: options.password, hostKey: options.hostKey }),
  });
  const body = await answer<Partial<JoinTicket>>(res, 'join');
  if (!body.token || !body.participantId) throw new ConveneError('http_error', `join failed: HTTP ${res.status}`);
  const rtpCapabilities = body.rtpCapabilities && typeof body.rtpCapabilities === 'object' ? body.rtpCapabilities : undefined;
  return { token: body.token, participantId: body.participantId, iceServers: Array.isArray(body.iceServers) ? body.iceServers : [], rtpCapabilities };
}

/** The meeting's files over HTTP: upload decks, address their page images. */
export class FilesApi {
  readonly #base: string;
  readonly #token: () => string;
  readonly #fetch?: FetchLike;
  constructor(baseUrl: string, meetingId: string, token: () => string, fetch?: FetchLike) {
    this.#base = `${baseUrl}/v1/meetings/${encodeURIComponent(meetingId)}/files`;
    this.#token = token;
    this.#fetch = fetch;
  }

  /**
   * Uploads a file as multipart with the host's `FormData`: a `Blob` or `File` in browsers and
   * Node 18+, a `{ uri, name, type }` reference in React Native.
   */
  async upload(file: BlobLike | FileReference, name?: string): Promise<FileInfo> {
    const fileName = name ?? ('name' in file && typeof file.name === 'string' ? file.name : 'upload');
    const doFetch = this.#fetch ?? hostFetch();
    const res = await doFetch(this.#base, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#token()}` },
      body: fileForm('file', file, fileName),
    });
    return answer<FileInfo>(res, 'upload');
  }

  /** The URL of a page image of a converted deck, carrying the token (`<img src>` sends no header). */
  pageUrl(fileId: string, page: number): string {
    return `${this.#base}/${fileId}/pages/${page}?token=${encodeURIComponent(this.#token())}`;
  }
}
