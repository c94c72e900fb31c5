import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { FileInfo } from '../common/protocol.ts';
import type { MeetingEvents } from '../meeting/MeetingEvents.ts';
import type { ConversionQueue } from './ConversionQueue.ts';
import { PermanentJobError } from './ConversionQueue.ts';
import { ConversionError, convertDeck } from './convertDeck.ts';
import { type FileStorage, TooLargeError } from './FileStorage.ts';
import { type FileRepository, filePrefix, originalKey, pageKey } from './FileRepository.ts';
import { inspectUpload, safeDisplayName } from './inspect.ts';

export interface FileServiceOptions {
  maxBytes: number;
  quotaBytes: number;
  convertTimeoutMs: number;
  workerId: string;
}

/** Uploads, their checks, storage and conversion into page images. */
export class FileService {
  readonly repo: FileRepository;
  readonly storage: FileStorage;
  private readonly queue: ConversionQueue;
  private readonly events: MeetingEvents;
  private readonly options: FileServiceOptions;
  private readonly logger: Logger;
  constructor(
    repo: FileRepository,
    storage: FileStorage,
    queue: ConversionQueue,
    events: MeetingEvents,
    options: FileServiceOptions,
    logger: Logger,
  ) {
    this.repo = repo;
    this.storage = storage;
    this.queue = queue;
    this.events = events;
    this.options = options;
    this.logger = logger;
  }

  /**
   * Streams an upload to storage, then checks what it really is. Anything refused is removed
   * before the error is thrown: a refusal leaves nothing on disk.
   */
  async upload(meetingId: string, input: { name: string; stream: Readable; uploadedBy: string | null }): Promise<FileInfo> {
    const name = safeDisplayName(input.name);
    const used = (await this.repo.list(meetingId)).reduce((sum, f) => sum + f.size, 0);
    if (used >= this.options.quotaBytes) throw new AppError('quota_exceeded', `the meeting's file quota (${this.options.quotaBytes} bytes) is used up`);
    const id = `f_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const ref = { meetingId, id };
    const limit = Math.min(this.options.maxBytes, this.options.quotaBytes - used);
    let stored: { size: number; sha256: string };
    try {
      stored = await this.storage.writeStream(originalKey(ref), input.stream, { maxBytes: limit });
    } catch (error) {
      input.stream.resume();
      await this.storage.deletePrefix(filePrefix(ref));
      if (error instanceof TooLargeError) {
        throw new AppError(limit < this.options.maxBytes ? 'quota_exceeded' : 'payload_too_large', `the file is larger than ${limit} bytes`);
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
    const file: FileInfo = {
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
    await this.repo.put(file);
    await this.events.publish(meetingId, { event: 'fileUpdated', payload: { file } });
    await this.queue.enqueue({ fileId: id, meetingId });
    this.logger.info({ meetingId, fileId: id, type: kind.ext, size: stored.size }, 'file uploaded; conversion queued');
    return file;
  }

  async get(meetingId: string, fileId: string): Promise<FileInfo> {
    const file = await this.repo.get(fileId);
    if (!file || file.meetingId !== meetingId) throw new AppError('not_found', `file ${fileId} does not exist in this meeting`);
    return file;
  }

  async delete(meetingId: string, fileId: string): Promise<void> {
    const file = await this.get(meetingId, fileId);
    await this.repo.remove(file);
    await this.storage.deletePrefix(filePrefix(file));
    await this.events.publish(meetingId, { event: 'fileUpdated', payload: { file, deleted: true } });
  }

  /** The queue's processor: one attempt at converting one deck, in its own temporary folder. */
  async convert(job: { fileId: string; meetingId: string }, attempt: number): Promise<void> {
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
