/** audiolab compare refuses what is not the same experiment, with a coded error that says why. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../analysis/compare/compare.ts';
import type { FullAnalysis } from '../../analysis/app/index.ts';
import type { LabManifest } from '../../analysis/app/manifest.ts';
import { tempDir } from '../helpers.ts';
import { audiolabProc } from '../cli/processes.ts';

const host = (role: string, ip: string): LabManifest['hosts'][number] => ({ role, ip, mac: null });
function run(hosts: LabManifest['hosts'] | null, scenario = ['connect', 'play x.wav']): FullAnalysis {
  const manifest = hosts && ({ runId: 'r', runtime: 'docker', started: null, ended: null, hosts, capture: null, impairments: { profile: 'clean', applied: [], unavailable: [] }, scenario, recordings: [] } satisfies LabManifest);
  return { manifest, connections: [], app: { clients: [], streams: [], relays: [] } } as unknown as FullAnalysis;
}
const lab = [host('server', '198.18.0.10'), host('client-a', '198.18.0.11'), host('client-b', '198.18.0.12')];

describe('compare: not the same experiment', () => {
  it('refuses a run without a manifest', () => {
    expect(() => compareRuns(run(lab), run(null), ['A', 'B'])).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_MISMATCH', message: expect.stringContaining('B has no lab.json') }));
  });

  it('refuses runs whose hosts differ (another --scale)', () => {
    expect(() => compareRuns(run(lab), run([...lab, host('listener-1', '198.18.0.20')]), ['A', 'B'])).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_MISMATCH', message: expect.stringContaining('hosts differ') }));
  });

  it('refuses runs of different scenarios', () => {
    expect(() => compareRuns(run(lab), run(lab, ['connect']), ['A', 'B'])).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_MISMATCH', message: expect.stringContaining('different scenarios') }));
  });

  it('refuses runs with no connection both have by role', () => {
    expect(() => compareRuns(run(lab), run(lab), ['A', 'B'])).toThrow(expect.objectContaining({ code: 'AUDIOLAB_ERR_MISMATCH', message: expect.stringContaining('by role') }));
  });

  it('as a command: a folder that is not a run is AUDIOLAB_ERR_FILE (exit 1), a mismatch AUDIOLAB_ERR_MISMATCH (exit 1)', async () => {
    const dir = await tempDir();
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const p = audiolabProc(['compare', empty, empty], { stdin: 'ignore' });
    expect((await p.exit).code).toBe(1);
    expect(p.stderr()).toMatch(/AUDIOLAB_ERR_FILE.*neither report\.json nor capture\.pcap/);
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    for (const [d, r] of [[a, run(lab)], [b, run(lab.slice(0, 2))]] as const) {
      await mkdir(d);
      await writeFile(join(d, 'report.json'), JSON.stringify(r));
    }
    const q = audiolabProc(['compare', a, b], { stdin: 'ignore' });
    expect((await q.exit).code).toBe(1);
    expect(q.stderr()).toMatch(/AUDIOLAB_ERR_MISMATCH.*hosts differ/);
  });
});
