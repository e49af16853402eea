/**
 * The Docker lab: wall time of `npm run lab` (runDockerLab) from a warm image cache to the report,
 * beside the same scenario as local processes (`audiolab lab --runtime local`, the reference: what
 * the containers, the network and the sidecar add), and the images' sizes beside their base image.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log, ROOT, type Row } from './lib.ts';
import { composeCommand, imageInfo, localDockerEnv, runDockerLab } from '../lab/docker.ts';
import { runLocalLab } from '../lab/local.ts';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { existsSync, readlinkSync, symlinkSync } from 'node:fs';

async function imageSize(image: string): Promise<number | null> {
  const info = await imageInfo(image);
  return info ? info.sizeBytes / 2 ** 20 : null;
}

export async function labBench(): Promise<{ rows: Row[]; notes: string[] }> {
  // the project a plain `docker compose up` uses too (.env): one network on the lab's subnet
  log('docker lab (warming the image cache)…');
  const warm = await runDockerLab({ runId: `bench-warm-${process.pid}`, updateLatest: false });
  await rm(warm.runDir, { recursive: true, force: true });
  log('docker lab (timed)…');
  const t0 = performance.now();
  const r = await runDockerLab({ runId: `bench-${process.pid}`, updateLatest: false });
  const docker = (performance.now() - t0) / 1000;
  await rm(r.runDir, { recursive: true, force: true });
  if (!r.ok) throw new Error(`the docker lab failed: ${r.failures.join('; ')}`);
  log('plain docker compose up (timed)…');
  const plain = await plainComposeUp();
  log('local lab…');
  const t1 = performance.now();
  const l = await runLocalLab({ runsDir: join(tmpdir(), `audiolab-bench-${process.pid}`), port: 5099, capture: 'tcpdump' });
  const local = (performance.now() - t1) / 1000;
  await rm(join(tmpdir(), `audiolab-bench-${process.pid}`), { recursive: true, force: true });
  if (!l.ok) throw new Error(`the local lab failed: ${l.failures.join('; ')}`);
  const env = localDockerEnv();
  const base = env.BASE_IMAGE ?? 'node:24-bookworm-slim';
  const capBase = env.CAPTURE_BASE_IMAGE ?? 'debian:bookworm-slim';
  const rows: Row[] = [
    { bench: 'npm run lab (warm image cache) → report', metric: 'wall time', ours: docker, reference: plain, refName: 'plain docker compose up, same scenario (goal: within 2 s)', unit: 's' },
    { bench: 'npm run lab (warm image cache) → report', metric: 'wall time', ours: docker, reference: local, refName: 'same scenario as local processes (--runtime local)', unit: 's' },
    { bench: 'image tcp-audio-lab (server, clients, analysis)', metric: 'size', ours: (await imageSize('tcp-audio-lab:latest')) ?? NaN, reference: await imageSize(base), refName: `its base ${base}`, unit: 'MiB' },
    { bench: 'image tcp-audio-lab-capture (tcpdump sidecar, netsetup)', metric: 'size', ours: (await imageSize('tcp-audio-lab-capture:latest')) ?? NaN, reference: await imageSize(capBase), refName: `its base ${capBase}`, unit: 'MiB' },
  ];
  return { rows, notes: [`The Docker lab takes ${docker.toFixed(1)} s from \`npm run lab\` to the report with a warm image cache (the build is skipped: nothing it is built from changed), ${(docker - plain).toFixed(1)} s more than a plain \`docker compose up\` (${plain.toFixed(1)} s; goal ≤ 2 s); the local runtime runs the same scenario in ${local.toFixed(1)} s.`] };
}

/** Seconds of a plain `docker compose up` (none of the wrapper's settings); its run is removed and runs/latest put back. */
async function plainComposeUp(): Promise<number> {
  const runs = join(ROOT, 'runs');
  const latest = join(runs, 'latest');
  const before = existsSync(latest) ? readlinkSync(latest) : null;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['RUN_ID', 'BASE_IMAGE', 'CAPTURE_BASE_IMAGE', 'HOST_UID', 'HOST_GID', 'COMPOSE_PROJECT_NAME']) delete env[k];
  const compose = await composeCommand();
  const t0 = performance.now();
  execFileSync(compose[0]!, [...compose.slice(1), 'up'], { cwd: ROOT, env, stdio: 'ignore' });
  const seconds = (performance.now() - t0) / 1000;
  const made = readlinkSync(latest);
  if (made !== before) await rm(join(runs, made), { recursive: true, force: true });
  await rm(latest, { force: true });
  if (before) symlinkSync(before, latest);
  return seconds;
}
