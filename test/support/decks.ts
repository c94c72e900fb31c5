import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Real decks made here by LibreOffice from a generated flat ODF presentation: a PPTX and a PDF
 * of `slides` pages.
 */
export function makeDecks(slides = 3): { pptx: Buffer; pdf: Buffer; dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'convene-decks-'));
  const pages = Array.from(
    { length: slides },
    (_, i) =>
      `<draw:page draw:name="p${i + 1}" draw:master-page-name="Default"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="4cm"><draw:text-box><text:p>Convene test slide ${i + 1}</text:p></draw:text-box></draw:frame></draw:page>`,
  ).join('');
  const doc = `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:master-styles><style:master-page style:name="Default"/></office:master-styles>
<office:body><office:presentation>${pages}</office:presentation></office:body></office:document>`;
  writeFileSync(path.join(dir, 'deck.fodp'), doc);
  for (const format of ['pptx', 'pdf']) {
    execFileSync('soffice', [`-env:UserInstallation=file://${dir}/profile`, '--headless', '--convert-to', format, '--outdir', dir, path.join(dir, 'deck.fodp')], {
      timeout: 60_000,
      stdio: 'ignore',
    });
  }
  return { pptx: readFileSync(path.join(dir, 'deck.pptx')), pdf: readFileSync(path.join(dir, 'deck.pdf')), dir };
}
