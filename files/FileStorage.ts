import type { Readable } from 'node:stream';

/**
 * Where uploads and page images live: a directory on disk or a mounted volume today, an object
 * store later. Writes are atomic: a reader never sees a partial file.
 */
export interface FileStorage {
  /**
   * Streams `source` into `key`, at most `maxBytes`; throws {@link TooLargeError} past it, and
   * `signal`'s reason when it is aborted. `onChunk` hears of every chunk as it arrives.
   */
  writeStream(key: string, source: Readable, options: WriteStreamOptions): Promise<{ size: number; sha256: string }>;
  writeFile(key: string, data: Buffer): Promise<{ size: number; sha256: string }>;
  /** Copies a stored object to a local path (the converter works on local files). */
  copyTo(key: string, localPath: string): Promise<void>;
  read(key: string): Readable;
  exists(key: string): Promise<boolean>;
  /** Removes every object under `prefix` (a meeting's or a file's folder). */
  deletePrefix(prefix: string): Promise<void>;
  /** Removes temporary files older than `olderThanMs`: uploads that died mid-way. */
  sweepTemporary(olderThanMs: number): Promise<number>;
  /** Meeting ids that have stored files. */
  meetings(): Promise<string[]>;
}

export interface WriteStreamOptions {
  maxBytes: number;
  signal?: AbortSignal;
  onChunk?: (bytesSoFar: number) => void;
}

export class TooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`larger than ${limit} bytes`);
    this.limit = limit;
    this.name = 'TooLargeError';
  }
}
