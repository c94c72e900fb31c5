import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { runTool, ToolError } from './runTool.ts';

export class ConversionError extends Error {
  /** Bad input that no retry will fix (a corrupt PDF, say). */
  readonly permanent: boolean;
  constructor(
    message: string,
    permanent: boolean,
  ) {
    super(message);
    this.permanent = permanent;
    this.name = 'ConversionError';
  }
}

export interface ConvertedDeck {
  pageCount: number;
  /** 1-based page number → PNG path in the work directory. */
  pages: Map<number, string>;
  missing: number[];
}

/**
 * A deck to page images: LibreOffice (headless, with a profile of its own so that conversions
 * can run side by side) turns office formats into PDF, then pdftoppm renders each page on its
 * own, so a page that fails costs only that page.
 */
export async function convertDeck(options: {
  input: string;
  ext: string;
  workDir: string;
  deadline: number;
  onProgress?: (fraction: number) => void | Promise<void>;
  resolution?: number;
  /** Aborted by the queue when the job's time is up: every running tool is killed at once. */
  signal?: AbortSignal;
}): Promise<ConvertedDeck> {
  const { input, ext, workDir, deadline, signal } = options;
  const remaining = () => {
    const ms = deadline - Date.now();
    if (ms <= 0 || signal?.aborted) throw new ConversionError('conversion timed out', false);
    return ms;
  };
  const run = (command: string, args: string[]) => runTool(command, args, { timeoutMs: remaining(), signal });
  let pdf = input;
  if (ext !== 'pdf') {
    const profile = `file://${path.join(workDir, 'lo-profile')}`;
    await run('soffice', [`-env:UserInstallation=${profile}`, '--headless', '--norestore', '--convert-to', 'pdf', '--outdir', workDir, input]).catch(
      (error: Error) => {
        const timedOut = error instanceof ToolError && error.timedOut;
        throw new ConversionError(timedOut ? 'LibreOffice timed out' : `LibreOffice failed: ${error.message.split('\n')[0]}`, !timedOut);
      },
    );
    const produced = (await readdir(workDir)).find((f) => f.endsWith('.pdf'));
    if (!produced) throw new ConversionError('LibreOffice produced no PDF: the deck is damaged or not a presentation', true);
    pdf = path.join(workDir, produced);
  }
  await options.onProgress?.(0.2);

  const info = await run('pdfinfo', [pdf]).catch((error: Error) => {
    if (error instanceof ToolError && error.timedOut) throw new ConversionError('conversion timed out', false);
    throw new ConversionError(`not a readable PDF: ${error.message.split('\n').slice(-2).join(' ').trim()}`, true);
  });
  const pageCount = Number(/^Pages:\s+(\d+)/m.exec(info.stdout)?.[1] ?? 0);
  if (!pageCount) throw new ConversionError('the PDF has no pages', true);

  const pages = new Map<number, string>();
  const missing: number[] = [];
  for (let page = 1; page <= pageCount; page++) {
    const prefix = path.join(workDir, `page-${page}`);
    try {
      await run('pdftoppm', ['-png', '-r', String(options.resolution ?? 96), '-f', String(page), '-l', String(page), '-singlefile', pdf, prefix]);
      pages.set(page, `${prefix}.png`);
    } catch (error) {
      if (error instanceof ConversionError) throw error;
      // Out of time is the whole job's failure, not a missing page.
      if (error instanceof ToolError && error.timedOut) throw new ConversionError('conversion timed out', false);
      missing.push(page);
    }
    await options.onProgress?.(0.2 + (0.8 * page) / pageCount);
  }
  if (pages.size === 0) throw new ConversionError('no page of the PDF could be rendered', true);
  return { pageCount, pages, missing };
}
