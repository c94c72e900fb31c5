import type { z } from 'zod';
import { type ClientMessageName, clientMessages, clientResults, serverEvents } from '../src/index.ts';

/**
 * The socket protocol tables of docs/architecture.md, rendered from the zod schemas: a field is
 * shown by name, with its values when they are an enum or literals and its range when it is a
 * bounded number; an object that is a payload's only field is spelled out one level deep; the
 * notes column is the schema's `.describe()` text. `npm run docs:protocol` writes the tables
 * between their markers; protocolDocs.test.ts fails when the file and the schemas disagree.
 */

type Schema = z.ZodType;
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  entries?: Record<string, string | number>;
  values?: unknown[];
  options?: Schema[];
}

const def = (schema: Schema): Def => (schema as unknown as { def: Def }).def;

/** Optional, nullable and default wrappers taken off. */
function unwrap(schema: Schema): { inner: Schema; optional: boolean; nullable: boolean } {
  let inner = schema;
  let optional = false;
  let nullable = false;
  for (;;) {
    const d = def(inner);
    if (d.type === 'optional' || d.type === 'default') optional = true;
    else if (d.type === 'nullable') nullable = true;
    else return { inner, optional, nullable };
    inner = d.innerType!;
  }
}

/** A field's values worth showing: enum members, literals, a number's range. */
function valuesOf(schema: Schema): string | undefined {
  const d = def(schema);
  if (d.type === 'enum') return Object.values(d.entries!).map((v) => `'${v}'`).join('|');
  if (d.type === 'literal') return d.values!.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join('|');
  if (d.type === 'number') {
    const { minValue, maxValue } = schema as unknown as { minValue: number | null; maxValue: number | null };
    // z.number().int() alone bounds a number by the safe integers: not worth a word.
    const min = minValue !== null && minValue > Number.MIN_SAFE_INTEGER ? minValue : undefined;
    const max = maxValue !== null && maxValue < Number.MAX_SAFE_INTEGER ? maxValue : undefined;
    if (min !== undefined && max !== undefined) return `${min}–${max}`;
    if (min !== undefined) return `≥ ${min}`;
    if (max !== undefined) return `≤ ${max}`;
  }
  return undefined;
}

function render(schema: Schema, depth: number): string {
  const d = def(schema);
  if (d.type === 'union') return d.options!.map((option) => render(option, depth)).join(' | ');
  if (d.type !== 'object') return valuesOf(schema) ?? d.type;
  const fields = Object.entries(d.shape!);
  if (fields.length === 0) return '{}';
  const parts = fields.map(([name, field]) => {
    const { inner, optional, nullable } = unwrap(field);
    const label = `${name}${optional ? '?' : ''}`;
    if (depth === 0 && fields.length === 1 && def(inner).type === 'object') return `${label}: ${render(inner, depth + 1)}${nullable ? ' | null' : ''}`;
    const values = depth === 0 ? valuesOf(inner) : undefined;
    return values ? `${label}: ${values}` : label;
  });
  return `{ ${parts.join(', ')} }`;
}

/** A table cell: code in backticks, pipes escaped so they do not end the cell. */
const code = (text: string) => `\`${text}\``.replaceAll('|', '\\|');
const note = (schema: Schema) => (schema.description ?? '').replaceAll('|', '\\|');

export function messagesTable(): string {
  const rows: { names: string[]; cells: string[] }[] = [];
  for (const name of Object.keys(clientMessages) as ClientMessageName[]) {
    const payload = clientMessages[name];
    const cells = [code(render(payload, 0)), code(render(clientResults[name], 0)), note(payload)];
    const last = rows.at(-1);
    // Messages that differ only by name (pause and resume, say) share a row.
    if (last?.cells.every((cell, i) => cell === cells[i])) last.names.push(name);
    else rows.push({ names: [name], cells });
  }
  return [
    '| message | payload | answer `data` | notes |',
    '|---|---|---|---|',
    ...rows.map(({ names, cells }) => `| ${names.map((n) => `\`${n}\``).join(', ')} | ${cells.join(' | ')} |`),
  ].join('\n');
}

export function eventsTable(): string {
  return [
    '| event | payload | notes |',
    '|---|---|---|',
    ...Object.entries(serverEvents).map(([name, payload]) => `| \`${name}\` | ${code(render(payload, 0))} | ${note(payload)} |`),
  ].join('\n');
}

const TABLES: Record<string, () => string> = { messages: messagesTable, events: eventsTable };

/** The document with every generated table replaced by the schemas' current one. */
export function rewriteDocs(markdown: string): string {
  let out = markdown;
  for (const [name, table] of Object.entries(TABLES)) {
    const start = `<!-- protocol:${name} (generated from protocol/src by npm run docs:protocol; edit the schemas, not this table) -->`;
    const end = `<!-- /protocol:${name} -->`;
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs: markers for the ${name} table are missing`);
    out = `${out.slice(0, from + start.length)}\n${table()}\n${out.slice(to)}`;
  }
  return out;
}
