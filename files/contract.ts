import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { ParticipantRecord } from '../meeting/contract.ts';
import type { FileInfo, Presentation } from '../protocol/src/index.ts';

/**
 * The files tier as other tiers see it: the api tier's HTTP routes call `Files`, the push tier's
 * presenting handlers call `Presentations`. `FileInfo` itself is client protocol
 * (`protocol/src`), the one definition events and HTTP answers share.
 */

export const fileIdSchema = z.string().regex(/^f_[a-f0-9]{16}$/, 'is not a file id');

/** One upload as the HTTP side hands it over: the body is read only through `open`. */
export interface UploadInput {
  /** The request body's length when the client declared it: the file is no larger. */
  declaredBytes: number | null;
  uploadedBy: string | null;
  /** Waits for the file part of the request: its name as sent and its bytes. */
  open: () => Promise<{ name: string; stream: Readable }>;
  /** Aborted when the upload stalls or its client goes away; its reason is what is thrown. */
  signal?: AbortSignal;
  onChunk?: (bytesSoFar: number) => void;
}

/** A meeting's files: upload (checked, stored, conversion queued), read, delete. */
export interface Files {
  /** Refusals remove what was written and give back the quota hold before throwing. */
  upload(meetingId: string, input: UploadInput): Promise<FileInfo>;
  list(meetingId: string): Promise<FileInfo[]>;
  /** Throws `not_found` for a file of another meeting too. */
  get(meetingId: string, fileId: string): Promise<FileInfo>;
  /** The uploaded bytes, as stored. */
  readOriginal(file: FileInfo): Readable;
  /** One converted page as PNG; the caller checks the page exists (`file.pages`). */
  readPage(file: FileInfo, page: number): Readable;
  delete(meetingId: string, fileId: string): Promise<void>;
}

/** Who presents which deck on which page; built without any queue, on every push node. */
export interface Presentations {
  start(who: ParticipantRecord, fileId: string, page?: number): Promise<Presentation>;
  turn(who: ParticipantRecord, page: number): Promise<Presentation>;
  stop(who: ParticipantRecord): Promise<void>;
}
