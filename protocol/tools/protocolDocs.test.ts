import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientMessages, serverEvents } from '../src/index.ts';
import { eventsTable, messagesTable, rewriteDocs } from './protocolDocs.ts';

const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');

describe('protocol docs', () => {
  it('docs/architecture.md holds the tables the schemas give (npm run docs:protocol rewrites them)', () => {
    expect(rewriteDocs(doc)).toBe(doc);
  });

  it('has a row for every message and every event', () => {
    const messages = messagesTable();
    for (const name of Object.keys(clientMessages)) expect(messages).toContain(`\`${name}\``);
    const events = eventsTable();
    for (const name of Object.keys(serverEvents)) expect(events).toContain(`| \`${name}\` |`);
  });

  it('spells out values, ranges, optional fields and unions', () => {
    const messages = messagesTable();
    expect(messages).toContain("`{ direction: 'send'\\|'recv' }`");
    expect(messages).toContain('spatialLayer: 0–2, temporalLayer?: 0–2');
    expect(messages).toContain("{ action: 'lock', locked } \\| { action: 'end' } \\| { action: 'lowerHand', participantId }`");
    expect(eventsTable()).toContain('`{ presentation: { fileId, page, pageCount, presenterId } \\| null }`');
  });

  it('fails on a table that no longer matches', () => {
    const stale = rewriteDocs(doc).replace('`{ direction: ', '`{ way: ');
    expect(rewriteDocs(stale)).not.toBe(stale);
  });
});
