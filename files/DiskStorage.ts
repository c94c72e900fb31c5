import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type FileStorage, TooLargeError, type WriteStreamOptions } from './FileStorage.ts';

const TEMP_PREFIX = '.tmp-';

/**
 * Files under one root. Every write goes to a `.tmp-*` file in the target folder, is flushed,
 * then renamed into place: rename is atomic, so a crash leaves a temporary file (which the
 * cleaner removes), never a truncated file under a real name.
 */
export class DiskStorage implements FileStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async writeStream(key: string, source: Readable, options: WriteStreamOptions): Promise<{ size: number; sha256: string }> {
    const target = this.#path(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temp = path.join(path.dirname(target), `${TEMP_PREFIX}${randomUUID()}`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > options.maxBytes) {
          done(new TooLargeError(options.maxBytes));
          return;
        }
        hash.update(chunk);
        options.onChunk?.(size);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(temp, { flags: 'wx', flush: true }), { signal: options.signal }).catch((error: unknown) => {
        // An abort arrives as a generic AbortError; the caller wants its own reason back.
        throw options.signal?.aborted ? options.signal.reason : error;
      });
      // A source that stopped early (multipart's own size limit) must not pass as complete.
      if ((source as Readable & { truncated?: boolean }).truncated) throw new TooLargeError(options.maxBytes);
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { size, sha256: hash.digest('hex') };
  }

  async writeFile(key: string, data: Buffer): Promise<{ size: number; sha256: string }> {
    const target = this.#path(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temp = path.join(path.dirname(target), `${TEMP_PREFIX}${randomUUID()}`);
    try {
      await writeFile(temp, data, { flag: 'wx', flush: true });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  }

  async copyTo(key: string, localPath: string): Promise<void> {
    await copyFile(this.#path(key), localPath);
  }

  read(key: string): Readable {
    return createReadStream(this.#path(key));
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.#path(key)).then(
      () => true,
      () => false,
    );
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.#path(prefix), { recursive: true, force: true });
  }

  async sweepTemporary(olderThanMs: number): Promise<number> {
    let removed = 0;
    const cutoff = Date.now() - olderThanMs;
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.name.startsWith(TEMP_PREFIX) && (await stat(full)).mtimeMs < cutoff) {
          await rm(full, { force: true });
          removed++;
        }
      }
    };
    await walk(this.root);
    return removed;
  }

  async meetings(): Promise<string[]> {
    const entries = await readdir(path.join(this.root, 'meetings'), { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** Keys are built by this tier from ids, never from user input; the check is a second line. */
  #path(key: string): string {
    const full = path.resolve(this.root, key);
    if (full !== this.root && !full.startsWith(`${this.root}${path.sep}`)) throw new Error(`storage key escapes the root: ${key}`);
    return full;
  }
}
