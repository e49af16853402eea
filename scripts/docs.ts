#!/usr/bin/env node
/** Regenerates the parts of docs/ derived from the protocol definition. Usage: node scripts/docs.ts [--check] */
import { readFile, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateDoc } from '../services/protocol/describe.ts';
import { luaDissector } from '../analysis/wireshark/generate.ts';
import { commandsDoc } from '../cli/reference.ts';

if (process.argv.includes('--help')) {
  console.log('Usage: node scripts/docs.ts [--check]\n\nRewrites what is generated from services/protocol/schema.ts: the message table and error codes in docs/protocol.md, the Wireshark dissector analysis/wireshark/audiolab.lua, and docs/commands.md (from the command registry).\n--check: exit 1 if the document is out of date instead of writing it.');
  process.exit(0);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commands = await commandsDoc();
const targets: Array<[string, (old: string) => string]> = [
  [join(root, 'docs', 'commands.md'), () => commands],
  [join(root, 'docs', 'protocol.md'), updateDoc],
  [join(root, 'analysis', 'wireshark', 'audiolab.lua'), () => luaDissector()],
];
let stale = 0;
for (const [path, make] of targets) {
  const doc = await readFile(path, 'utf8').catch(() => '');
  const next = make(doc);
  if (next === doc) continue;
  if (process.argv.includes('--check')) {
    console.error(`${path} is out of date: run npm run docs`);
    stale++;
  } else {
    await writeFile(path, next);
    console.log(`updated ${path}`);
  }
}
process.exit(stale ? 1 : 0);
