/**
 * The little the SDK needs from its host, typed structurally: the SDK compiles without the DOM
 * lib or Node's types, so it runs in browsers, Node 18+ and React Native alike, and takes
 * whatever `fetch` and `FormData` the host has (`globalThis`, or passed in `JoinOptions.fetch`).
 */

/** The part of a fetch `Response` the SDK reads. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  json(): Promise<unknown>;
}

export interface RequestInitLike {
  method?: string;
  headers?: Record<string, string>;
  body?: string | FormDataLike;
}

/**
 * Any fetch: the browser's, Node's (undici), React Native's, or a test double. Declared as a
 * method so that a host fetch, whose RequestInit is wider than {@link RequestInitLike}, fits.
 */
export type FetchLike = { fetch(url: string, init?: RequestInitLike): Promise<ResponseLike> }['fetch'];

/** A blob of bytes with a name on upload: a browser `Blob`/`File`, or Node's `Blob`. */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
}

/** React Native's way of naming a local file in a multipart body. */
export interface FileReference {
  uri: string;
  name: string;
  type: string;
}

export interface FormDataLike {
  append(name: string, value: unknown, fileName?: string): void;
}

interface EventTargetLike {
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
}

interface Host extends EventTargetLike {
  fetch?: FetchLike;
  FormData?: new () => FormDataLike;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  console?: { error(...args: unknown[]): void };
  /** Browsers; `connection` where the Network Information API exists (Chromium, Android webviews). */
  navigator?: { connection?: EventTargetLike & { type?: string } };
}

const host = globalThis as unknown as Host;

export function hostFetch(): FetchLike {
  if (!host.fetch) throw new Error('no global fetch: pass JoinOptions.fetch');
  return host.fetch.bind(globalThis);
}

/** A multipart body holding one file, built with the host's `FormData` (browsers, Node 18+, React Native). */
export function fileForm(field: string, file: BlobLike | FileReference, name: string): FormDataLike {
  if (!host.FormData) throw new Error('no global FormData in this runtime');
  const form = new host.FormData();
  // React Native's FormData takes a { uri, name, type } object and reads the file itself;
  // everywhere else the bytes are a Blob and the name is the third argument.
  if ('uri' in file) form.append(field, { ...file, name });
  else form.append(field, file, name);
  return form;
}

export function later(callback: () => void, ms: number): { cancel(): void } {
  const handle = host.setTimeout(callback, ms);
  return { cancel: () => host.clearTimeout(handle) };
}

/**
 * Calls `onChange` when the host says its network changed: the browser's `online` event (back
 * from offline), or a new connection type (Wi-Fi to cellular) from the Network Information
 * API. Hosts without them (Node, React Native) never call it. Returns the unsubscribe.
 */
export function watchNetwork(onChange: (reason: 'online' | 'connection') => void): () => void {
  const online = () => onChange('online');
  const connection = host.navigator?.connection;
  // `type` (wifi, cellular, …) only: `effectiveType` moves with link quality, not with the network.
  let type = connection?.type;
  const changed = () => {
    const now = connection?.type;
    if (now === type) return;
    type = now;
    onChange('connection');
  };
  host.addEventListener?.('online', online);
  connection?.addEventListener?.('change', changed);
  return () => {
    host.removeEventListener?.('online', online);
    connection?.removeEventListener?.('change', changed);
  };
}

export function reportError(message: string, error: unknown): void {
  host.console?.error(message, error);
}
