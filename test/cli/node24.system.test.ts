/**
 * bin/ under another Node, as on a fresh Debian machine whose `node` is 20: the command runs itself
 * with the Node 24 setup installed, or, where there is none, stops with a coded error naming the
 * command to run. AUDIOLAB_OTHER_NODE names a Node that is not 24 (default: Debian's /usr/bin/node).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.ts';

const OTHER = process.env.AUDIOLAB_OTHER_NODE ?? '/usr/bin/node';

describe('bin/ under a Node that is not 24', () => {
  it('has such a Node to run under', () => {
    expect(Number(execFileSync(OTHER, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim())).not.toBe(24);
  });

  it('runs the command with the Node 24 that setup installed', () => {
    const r = spawnSync(OTHER, [join(ROOT, 'bin/audiolab.mjs'), '--version'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('tcp-audio-lab 0.1.0\n');
    expect(r.status).toBe(0);
    const usage = spawnSync(OTHER, [join(ROOT, 'bin/audiolab.mjs'), 'play'], { encoding: 'utf8' });
    expect(usage.status).toBe(2); // the exit code comes through
  });

  it('where setup has not run, stops with AUDIOLAB_ERR_NOT_SET_UP and the one command to run', async () => {
    const fresh = await tempDir('audiolab-fresh-');
    await mkdir(join(fresh, 'bin'));
    await cp(join(ROOT, 'bin'), join(fresh, 'bin'), { recursive: true });
    const env = { ...process.env, HOME: fresh, AUDIOLAB_NODE: '' };
    const lab = spawnSync(OTHER, [join(fresh, 'bin/audiolab.mjs'), 'lab', '--runtime', 'docker'], { encoding: 'utf8', env });
    expect(lab.status).toBe(1);
    expect(lab.stderr).toContain('AUDIOLAB_ERR_NOT_SET_UP');
    expect(lab.stderr).toContain('Run: bash scripts/setup.sh --docker');
    const docs = spawnSync(OTHER, [join(fresh, 'bin/node24.mjs'), 'scripts/docs.ts'], { encoding: 'utf8', env });
    expect(docs.status).toBe(1);
    expect(docs.stderr).toContain('Run: bash scripts/setup.sh ');
  });
});
