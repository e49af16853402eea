/** Renders the protocol definition (schema.ts) for people: the message table of docs/protocol.md. */
import { MESSAGES, SUB_SCHEMAS } from './schema.ts';

const fields = (f: Readonly<Record<string, string>>): string =>
  Object.entries(f).map(([k, v]) => (v.endsWith('?') ? `${k}?: ${v.slice(0, -1)}` : `${k}: ${v}`)).join(', ');

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function messageTable(): string {
  const rows = Object.entries(MESSAGES).map(([name, m]) =>
    `| 0x${m.code.toString(16).padStart(2, '0')} | ${name} | ${m.dir === 'c2s' ? 'client → server' : m.dir === 's2c' ? 'server → client' : 'both'} | ${m.body === 'binary' ? 'binary' : 'JSON'} | ${fields(m.fields)} | ${cell(m.doc)} |`);
  const subs = Object.entries(SUB_SCHEMAS).map(([name, f]) => `| ${name} | ${fields(f)} |`);
  return [
    '| type | name | direction | body | fields | meaning |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    '| object | fields |',
    '|---|---|',
    ...subs,
  ].join('\n');
}

export const TABLE_BEGIN = '<!-- BEGIN GENERATED: message table (npm run docs) -->';
export const TABLE_END = '<!-- END GENERATED -->';

/** Replaces the generated section of a document with the current table. */
export function updateDoc(doc: string): string {
  const a = doc.indexOf(TABLE_BEGIN);
  const b = doc.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error('docs/protocol.md lacks the generated-table markers');
  return `${doc.slice(0, a + TABLE_BEGIN.length)}\n${messageTable()}\n${doc.slice(b)}`;
}
