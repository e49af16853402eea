import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../helpers.ts';
import { updateDoc } from '../../services/protocol/describe.ts';
import { ERROR_CODES } from '../../services/protocol/errors.ts';
import { MESSAGES } from '../../services/protocol/index.ts';

describe('docs/protocol.md', () => {
  it('carries the message table generated from the one protocol definition', async () => {
    const doc = await readFile(join(ROOT, 'docs/protocol.md'), 'utf8');
    expect(updateDoc(doc)).toBe(doc);
    for (const name of Object.keys(MESSAGES)) expect(doc).toContain(`| ${name} |`);
  });

  it('lists every error code', async () => {
    const doc = await readFile(join(ROOT, 'docs/protocol.md'), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) expect(doc).toContain(`\`${code}\``);
  });
});
