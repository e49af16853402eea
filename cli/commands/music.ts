import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderWav, SONGS } from '../../music/synth.ts';
import type { Command } from '../command.ts';
import { fmtBytes } from '../ui.ts';

export const musicCommand: Command = {
  name: 'gen-music',
  args: '[DIR]',
  arity: [0, 1],
  options: {},
  async run(ctx) {
    const dir = ctx.positionals[0] ?? 'music';
    await mkdir(dir, { recursive: true });
    for (const spec of SONGS) {
      const wav = renderWav(spec);
      await writeFile(join(dir, spec.name), wav);
      const f = spec.format;
      process.stdout.write(`${join(dir, spec.name)}  ${f.sampleRate} Hz ${f.channels} ch ${f.bitsPerSample}-bit${spec.extensible ? ' EXTENSIBLE' : ''}  ${fmtBytes(wav.length)}\n`);
    }
    return 0;
  },
};
