/**
 * The same experiment under several impairment profiles (`npm run lab -- --profile clean,lossy`):
 * one Docker lab run per profile, one after the other, then each later run compared with the
 * first (analysis/compare), the comparison written beside the runs.
 */
import { basename, join } from 'node:path';
import { AudioLabError } from '../services/protocol/errors.ts';
import { compareRuns, loadRun } from '../analysis/compare/compare.ts';
import { writeComparison } from '../analysis/compare/render.ts';
import { PROFILES, ROOT, runDockerLab, type DockerLabOptions, type DockerLabResult } from './docker.ts';

export interface ProfilesResult {
  runs: Array<DockerLabResult & { profile: string }>;
  /** compare.html of each later run against the first. */
  comparisons: Array<{ dir: string; html: string; differences: string[] }>;
  ok: boolean;
  interrupted: boolean;
}

/** `clean,lossy` as a list of known profiles, at least two and each once. */
export function parseProfiles(spec: string): string[] {
  const list = spec.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of list) if (!(PROFILES as readonly string[]).includes(p)) throw new AudioLabError('AUDIOLAB_ERR_USAGE', `unknown profile ${JSON.stringify(p)} in --profile ${spec} (each one of ${PROFILES.join(', ')})`);
  if (new Set(list).size !== list.length) throw new AudioLabError('AUDIOLAB_ERR_USAGE', `--profile ${spec} names a profile twice`);
  return list;
}

export async function runDockerProfiles(profiles: string[], o: Omit<DockerLabOptions, 'profile'> = {}): Promise<ProfilesResult> {
  const say = o.onStep ?? (() => {});
  const runs: ProfilesResult['runs'] = [];
  for (const [i, profile] of profiles.entries()) {
    if (o.signal?.aborted) break;
    const step = (m: string): void => say(`[${i + 1}/${profiles.length} ${profile}] ${m}`);
    step(`run ${i + 1} of ${profiles.length}: profile ${profile}`);
    const r = await runDockerLab({ ...o, profile, build: i === 0 ? o.build ?? true : false, onStep: step, ...(o.runId ? { runId: `${o.runId}-${profile}` } : {}) });
    runs.push({ ...r, profile });
    if (r.interrupted) break;
  }
  const comparisons: ProfilesResult['comparisons'] = [];
  const done = runs.filter((r) => !r.interrupted);
  if (done.length === profiles.length) {
    const first = await loadRun(done[0]!.runDir);
    for (const r of done.slice(1)) {
      const c = compareRuns(first, await loadRun(r.runDir), [done[0]!.runDir, r.runDir]);
      const dir = join(o.runsDir ?? join(ROOT, 'runs'), `compare-${basename(done[0]!.runDir)}-vs-${basename(r.runDir)}`);
      const [html] = await writeComparison(c, dir);
      say(`compared ${done[0]!.profile} with ${r.profile}: ${html}`);
      comparisons.push({ dir, html: html!, differences: c.differences });
    }
  }
  return { runs, comparisons, ok: runs.length === profiles.length && runs.every((r) => r.ok), interrupted: runs.some((r) => r.interrupted) };
}
