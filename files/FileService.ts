import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { FileInfo } from '../protocol/src/index.ts';
import type { MeetingEventSink } from '../meeting/contract.ts';
import type { Files, UploadInput } from './contract.ts';
import type { ConversionQueue } from './ConversionQueue.ts';
import { PermanentJobError } from './ConversionQueue.ts';
import { ConversionError, convertDeck } from './convertDeck.ts';
import { type FileStorage, TooLargeError } from './FileStorage.ts';
import { type FileRepository, filePrefix, originalKey, pageKey } from './FileRepository.ts';
import { inspectUpload, safeDisplayName } from './inspect.ts';
import type { UploadQuota } from './UploadQuota.ts';

export type { UploadInput } from './contract.ts';

export interface FileServiceOptions {
  maxBytes: number;
  quotaBytes: number;
  convertTimeoutMs: number;
  workerId: string;
}

/** Uploads, their checks, storage and conversion into page images. */
export class FileService implements Files {
  readonly repo: FileRepository;
  readonly storage: FileStorage;
  private readonly queue: ConversionQueue;
  private readonly quota: UploadQuota;
  private readonly events: MeetingEventSink;
  private readonly options: FileServiceOptions;
  private readonly logger: Logger;
  constructor(
    repo: FileRepository,
    storage: FileStorage,
    queue: ConversionQueue,
    quota: UploadQuota,
    events: MeetingEventSink,
    options: FileServiceOptions,
    logger: Logger,
  ) {
    this.repo = repo;
    this.storage = storage;
    this.queue = queue;
    this.quota = quota;
    this.events = events;
    this.options = options;
    this.logger = logger;
  }

  /**
   * Takes an upload: reserves its room in the meeting's quota before reading a byte, streams it
   * to storage within what was granted, then checks what it really is. Anything refused or cut
   * off is removed and its reservation given back before the error is thrown: a refusal leaves
   * nothing on disk and nothing held.
   */
  async upload(meetingId: string, input: UploadInput): Promise<FileInfo> {
    const id = `f_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const ref = { meetingId, id };
    // The body's length bounds the file's: reserve that, or the most a file may be.
    const wanted = Math.min(this.options.maxBytes, input.declaredBytes ?? this.options.maxBytes);
    const limit = await this.quota.reserve(meetingId, id, { bytes: wanted, by: input.uploadedBy });
    let file: FileInfo;
    try {
      file = await this.#store(ref, limit, wanted, input);
      await this.repo.put(file);
    } finally {
      // Settled (the file record now counts its real size) or failed: the hold goes either way.
      await this.quota.release(meetingId, id).catch((error: unknown) => this.logger.warn({ meetingId, fileId: id, err: error }, 'quota hold not released; it will lapse'));
    }
    await this.events.publish(meetingId, { event: 'fileUpdated', payload: { file } });
    await this.queue.enqueue({ fileId: id, meetingId });
    this.logger.info({ meetingId, fileId: id, type: file.type, size: file.size }, 'file uploaded; conversion queued');
    return file;
  }

  async #store(ref: { meetingId: string; id: string }, limit: number, wanted: number, input: UploadInput): Promise<FileInfo> {
    const { meetingId, id } = ref;
    const { signal } = input;
    const part = await untilAborted(input.open(), signal);
    const name = safeDisplayName(part.name);
    let stored: { size: number; sha256: string };
    try {
      stored = await this.storage.writeStream(originalKey(ref), part.stream, { maxBytes: limit, signal, onChunk: input.onChunk });
    } catch (error) {
      await this.storage.deletePrefix(filePrefix(ref));
      if (error instanceof TooLargeError) {
        throw new AppError(limit < wanted ? 'quota_exceeded' : 'payload_too_large', `the file is larger than ${limit} bytes`);
      }
      throw error;
    }
    const work = await mkdtemp(path.join(os.tmpdir(), 'convene-inspect-'));
    let kind: { ext: string; mime: string };
    try {
      const local = path.join(work, 'upload');
      await this.storage.copyTo(originalKey(ref), local);
      kind = await inspectUpload(local, stored.size);
    } catch (error) {
      await this.storage.deletePrefix(filePrefix(ref));
      throw error;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return {
      id,
      meetingId,
      name,
      type: kind.ext,
      size: stored.size,
      sha256: stored.sha256,
      status: 'uploaded',
      pages: [],
      missingPages: [],
      pageCount: 0,
      progress: 0,
      uploadedBy: input.uploadedBy,
      createdAt: Date.now(),
    };
  }

  async get(meetingId: string, fileId: string): Promise<FileInfo> {
    const file = await this.repo.get(fileId);
    if (!file || file.meetingId !== meetingId) throw new AppError('not_found', `file ${fileId} does not exist in this meeting`);
    return file;
  }

  list(meetingId: string): Promise<FileInfo[]> {
    return this.repo.list(meetingId);
  }

  readOriginal(file: FileInfo): Readable {
    return this.storage.read(originalKey(file));
  }

  readPage(file: FileInfo, page: number): Readable {
    return this.storage.read(pageKey(file, page));
  }

  async delete(meetingId: string, fileId: string): Promise<void> {
    const file = await this.get(meetingId, fileId);
    await this.repo.remove(file);
    await this.storage.deletePrefix(filePrefix(file));
    await this.events.publish(meetingId, { event: 'fileUpdated', payload: { file, deleted: true } });
  }

  /** The queue's processor: one attempt at converting one deck, in its own temporary folder. */
  async convert(job: { fileId: string; meetingId: string }, attempt: number, signal?: AbortSignal): Promise<void> {
    const file = await this.repo.get(job.fileId);
    if (!file) return; // deleted meanwhile
    const work = await mkdtemp(path.join(os.tmpdir(), 'convene-convert-'));
    const deadline = Date.now() + this.options.convertTimeoutMs;
    const update = async (change: Partial<FileInfo>) => {
      const next = await this.repo.update(file.id, (f) => ({ ...f, ...change }));
      if (next) await this.events.publish(file.meetingId, { event: 'fileUpdated', payload: { file: next } });
      return next;
    };
    try {
      this.logger.info({ fileId: file.id, attempt, worker: this.options.workerId }, 'converting deck');
      await update({ status: 'converting', progress: 0, error: undefined, convertedBy: this.options.workerId });
      const input = path.join(work, `input.${file.type}`);
      await this.storage.copyTo(originalKey(file), input);
      const deck = await convertDeck({
        input,
        ext: file.type,
        workDir: work,
        deadline,
        signal,
        onProgress: async (fraction) => {
          await update({ progress: Math.round(fraction * 100) / 100 });
        },
      });
      for (const [page, png] of deck.pages) await this.storage.writeFile(pageKey(file, page), await readFile(png));
      await update({
        status: deck.missing.length ? 'partial' : 'ready',
        pages: [...deck.pages.keys()].sort((a, b) => a - b),
        missingPages: deck.missing,
        pageCount: deck.pageCount,
        progress: 1,
      });
      this.logger.info({ fileId: file.id, pages: deck.pages.size, missing: deck.missing }, 'deck converted');
    } catch (error) {
      const permanent = error instanceof ConversionError && error.permanent;
      this.logger.warn({ fileId: file.id, attempt, permanent, err: error }, 'conversion failed');
      await update({ status: 'failed', error: (error as Error).message });
      if (permanent) throw new PermanentJobError((error as Error).message);
      throw error;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Removes files of meetings that ended more than `retentionMs` ago, and stale temporaries. */
  async clean(isExpired: (meetingId: string) => Promise<boolean>): Promise<{ meetings: number; temporaries: number }> {
    let meetings = 0;
    for (const meetingId of await this.storage.meetings()) {
      if (!(await isExpired(meetingId))) continue;
      for (const file of await this.repo.list(meetingId)) await this.repo.remove(file);
      await this.storage.deletePrefix(`meetings/${meetingId}`);
      meetings++;
    }
    const temporaries = await this.storage.sweepTemporary(60 * 60_000);
    return { meetings, temporaries };
  }
}

/** `promise`, or `signal`'s reason if it aborts first; a late outcome of `promise` is dropped. */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => undefined);
  signal.throwIfAborted();
  let onAbort: () => void = () => undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
