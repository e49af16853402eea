#!/usr/bin/env node
/** Regenerates the parts of docs/ derived from the protocol definition. Usage: node scripts/docs.ts [--check] */
import { readFile, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateDoc } from '../services/protocol/describe.ts';

if (process.argv.includes('--help')) {
  console.log('Usage: node scripts/docs.ts [--check]\n\nRewrites the generated message table in docs/protocol.md from services/protocol/schema.ts.\n--check: exit 1 if the document is out of date instead of writing it.');
  process.exit(0);
}
const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'protocol.md');
const doc = await readFile(path, 'utf8');
const next = updateDoc(doc);
if (process.argv.includes('--check')) {
  if (next !== doc) {
    console.error('docs/protocol.md is out of date: run npm run docs');
    process.exit(1);
  }
} else if (next !== doc) {
  await writeFile(path, next);
  console.log('updated docs/protocol.md');
}
