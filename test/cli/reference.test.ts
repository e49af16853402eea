import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.ts';
import { commandsDoc } from '../../cli/reference.ts';
import { COMMANDS } from '../../cli/main.ts';

describe('docs/commands.md', () => {
  it('is what the registry and the commands\' declarations say (npm run docs regenerates it)', async () => {
    const doc = await readFile(join(ROOT, 'docs/commands.md'), 'utf8');
    expect(doc).toBe(await commandsDoc());
    for (const c of COMMANDS) expect(doc).toContain(`## audiolab ${c.name}\n\n\`\`\`text\nUsage: audiolab ${c.name}`);
  });
});
