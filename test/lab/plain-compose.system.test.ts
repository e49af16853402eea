/**
 * A plain `docker compose up` (the user's card: no wrapper, no settings), run twice after an
 * `npm run lab`: each run gets a folder of its own and completes (capture, manifest, report);
 * runs/latest moves to each as it completes; the wrapper's run stays byte-identical; the images
 * build with the Dockerfiles' default base names (offline, these are the local base image).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers.ts';
import { runDockerLab } from '../../lab/docker.ts';
import { analyze } from '../../analysis/analyze.ts';
import { clearStaleLabNetworks } from './networks.ts';

const RUNS = join(ROOT, 'runs');
const PROJECT = 'audiolabplain';

/** Every file under `dir` with its sha256, by path: a run folder's exact content. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** The environment of a user who types `docker compose up` in the checkout: none of the wrapper's settings. */
function plainEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, COMPOSE_PROJECT_NAME: PROJECT };
  for (const k of ['RUN_ID', 'BASE_IMAGE', 'CAPTURE_BASE_IMAGE', 'HOST_UID', 'HOST_GID', 'LAB_PROFILE', 'LAB_POINT_LATEST']) delete env[k];
  return env;
}

function compose(args: string[]): string {
  let cmd = ['docker', 'compose'];
  try { execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' }); } catch { cmd = ['docker-compose']; }
  try {
    return execFileSync(cmd[0]!, [...cmd.slice(1), ...args], { cwd: ROOT, env: plainEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    throw new Error(`${cmd.join(' ')} ${args.join(' ')} exited ${err.status}:\n${String(err.stderr).slice(-3000)}\n${String(err.stdout).split('\n').filter((l) => !l.includes('server_1 ')).slice(-30).join('\n')}`);
  }
}

const latestBefore = existsSync(join(RUNS, 'latest')) && lstatSync(join(RUNS, 'latest')).isSymbolicLink() ? readlinkSync(join(RUNS, 'latest')) : null;
const made: string[] = [];

afterAll(() => {
  try { compose(['down', '--remove-orphans']); } catch { /* nothing to take down */ }
  for (const d of made) rmSync(join(RUNS, d), { recursive: true, force: true });
  // the checkout's runs/latest as it was
  rmSync(join(RUNS, 'latest'), { force: true });
  if (latestBefore) symlinkSync(latestBefore, join(RUNS, 'latest'));
});

describe('plain docker compose up', () => {
  it('after npm run lab, twice in a row: a new complete run each time, latest moves, the earlier run untouched', async () => {
    clearStaleLabNetworks();
    const wrapped = await runDockerLab({ runId: `plain-test-${process.pid}`, projectName: PROJECT, updateLatest: false });
    made.push(`plain-test-${process.pid}`);
    expect(wrapped.failures).toEqual([]);
    const before = tree(wrapped.runDir);
    // the images build from the Dockerfiles' defaults, with no registry: the local base under those names
    compose(['build', 'server', 'capture']);
    const seen = new Set<string>([`plain-test-${process.pid}`]);
    for (let i = 0; i < 2; i++) {
      const log = compose(['up']);
      const id = readlinkSync(join(RUNS, 'latest'));
      made.push(id);
      expect(seen.has(id), `run ${i + 1} got a folder of its own (${id})\n${log.slice(-2000)}`).toBe(false);
      seen.add(id);
      const dir = join(RUNS, id);
      for (const f of ['capture.pcap', 'lab.json', 'report.html', 'report.json']) expect(existsSync(join(dir, f)), `${id}/${f}`).toBe(true);
      // whoever ran it can read what it wrote (the owner is uid 1000 unless HOST_UID says otherwise)
      for (const f of Object.keys(tree(dir))) expect(statSync(join(dir, f)).mode & 0o004, `${id}/${f} is world-readable`).toBe(0o004);
      const conns = analyze(join(dir, 'capture.pcap')).connections.filter((c) => c.server.port === 5050);
      expect(conns.map((c) => c.client.ip).sort()).toEqual(['198.18.0.11', '198.18.0.12']);
    }
    expect(tree(wrapped.runDir)).toEqual(before);
    expect(existsSync(join(RUNS, '.current')), 'a finished run is no longer current').toBe(false);
  }, 900_000);
});
