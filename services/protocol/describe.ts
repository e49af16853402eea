/** Renders the protocol definition for people: docs/protocol.md's message table and error codes. */
import { MESSAGES, SUB_SCHEMAS } from './schema.ts';
import { LOCAL_ERRORS, WIRE_ERRORS } from './errors.ts';

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

/** The error catalogue: the codes an ERROR frame may carry, then the local ones. */
export function errorTables(): string {
  const table = (codes: Readonly<Record<string, string>>): string[] =>
    ['| code | meaning |', '|---|---|', ...Object.entries(codes).map(([code, text]) => `| \`${code}\` | ${cell(text)} |`)];
  return [
    'On the wire (an ERROR frame\'s `code`):',
    '',
    ...table(WIRE_ERRORS),
    '',
    'Local (reported by a command about its own side, never sent):',
    '',
    ...table(LOCAL_ERRORS),
  ].join('\n');
}

const SECTIONS: Array<[string, () => string]> = [
  ['message table', messageTable],
  ['error codes', errorTables],
];
const END = '<!-- END GENERATED -->';

/** Replaces each generated section of a document (between its markers) with the current text. */
export function updateDoc(doc: string): string {
  let out = doc;
  for (const [name, render] of SECTIONS) {
    const begin = `<!-- BEGIN GENERATED: ${name} (npm run docs) -->`;
    const a = out.indexOf(begin);
    const b = out.indexOf(END, a);
    if (a < 0 || b < a) throw new Error(`docs/protocol.md lacks the markers of the generated ${name}`);
    out = `${out.slice(0, a + begin.length)}\n${render()}\n${out.slice(b)}`;
  }
  return out;
}
