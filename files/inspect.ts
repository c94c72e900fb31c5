import { fileTypeFromFile } from 'file-type';
import yauzl from 'yauzl';
import { AppError } from '../common/errors.ts';

/** Decks the converter accepts, by what their bytes say they are. */
export const ALLOWED_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odp: 'application/vnd.oasis.opendocument.presentation',
  ppt: 'application/vnd.ms-powerpoint',
};

export interface ZipLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  /** Uncompressed to compressed, over the whole archive. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 5000, maxUncompressedBytes: 300 * 1024 * 1024, maxRatio: 100 };

/**
 * What an uploaded file really is, from its content: never from its name. Zip-based formats
 * are inflated here, into nothing, within a budget, so that a zip bomb is refused here and
 * never reaches LibreOffice.
 */
export async function inspectUpload(file: string, size: number, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<{ ext: string; mime: string }> {
  const detected = await fileTypeFromFile(file).catch(() => undefined);
  let ext = detected?.ext as string | undefined;
  // file-type reports legacy Office files as the generic compound-file container.
  if (ext === 'cfb') ext = 'ppt';
  if (!ext || !(ext in ALLOWED_TYPES)) {
    throw new AppError(
      'unsupported_media_type',
      `the file's content is ${detected ? `${detected.mime} (${detected.ext})` : 'not a recognised format'}; upload a PDF, PPTX, ODP or PPT deck`,
    );
  }
  if (ext === 'pptx' || ext === 'odp') await checkZip(file, size, limits);
  return { ext, mime: ALLOWED_TYPES[ext]! };
}

/**
 * Inflates every entry (into nothing) and counts the bytes that really come out, against the
 * limits, stopping the moment they are passed. The sizes a zip declares are whatever its maker
 * wrote: a bomb declares small ones. An entry that inflates past what it declares is refused too.
 */
async function checkZip(file: string, size: number, limits: ZipLimits): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    // validateEntrySizes off: the counting below does it, and knows to call a liar a bomb.
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: false }, (error, z) => (error || !z ? reject(error) : resolve(z))),
  ).catch((error: unknown) => {
    throw new AppError('bad_request', `the deck is not a valid zip archive: ${(error as Error).message}`);
  });
  const budget = Math.min(limits.maxUncompressedBytes, limits.maxRatio * Math.max(1, size));
  const bomb = (why: string) => new AppError('payload_too_large', `the deck ${why}: refused as a possible zip bomb`);
  let entries = 0;
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        entries++;
        if (entries > limits.maxEntries) {
          reject(bomb(`has more than ${limits.maxEntries} entries`));
          return;
        }
        if (entry.fileName.endsWith('/')) {
          zip.readEntry();
          return;
        }
        zip.openReadStream(entry, (error, stream) => {
          if (error || !stream) {
            reject(new AppError('bad_request', `the deck's zip archive is damaged: ${error?.message ?? 'unreadable entry'}`));
            return;
          }
          let inEntry = 0;
          stream.on('data', (chunk: Buffer) => {
            inEntry += chunk.length;
            total += chunk.length;
            if (total > budget || inEntry > entry.uncompressedSize) {
              stream.destroy();
              reject(
                total > budget
                  ? bomb(`expands to more than ${budget} bytes`)
                  : bomb(`has an entry that expands past the ${entry.uncompressedSize} bytes it declares`),
              );
            }
          });
          stream.on('error', (e: Error) => reject(new AppError('bad_request', `the deck's zip archive is damaged: ${e.message}`)));
          stream.on('end', () => zip.readEntry());
        });
      });
      zip.on('end', () => resolve());
      zip.on('error', (error: Error) => reject(new AppError('bad_request', `the deck's zip archive is damaged: ${error.message}`)));
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

/** An original file name kept for display: no folders, no control characters. */
export function safeDisplayName(name: string): string {
  if (name.includes('/') || name.includes('\\') || name.includes('\0') || name.split(/[/\\]/).includes('..') || name.startsWith('..')) {
    throw new AppError('bad_request', `the file name "${name}" contains a path; send a plain file name`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const cleaned = name.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (!cleaned || cleaned.length > 255) throw new AppError('bad_request', 'the file name must be 1 to 255 characters');
  return cleaned;
}
