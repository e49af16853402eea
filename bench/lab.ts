/**
 * The Docker lab: wall time of `npm run lab` (runDockerLab) from a warm image cache to the report,
 * beside the same scenario as local processes (`audiolab lab --runtime local`, the reference: what
 * the containers, the network and the sidecar add), and the images' sizes beside their base image.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log, type Row } from './lib.ts';
import { imageInfo, localDockerEnv, runDockerLab } from '../lab/docker.ts';
import { runLocalLab } from '../lab/local.ts';
import { tmpdir } from 'node:os';

async function imageSize(image: string): Promise<number | null> {
  const info = await imageInfo(image);
  return info ? info.sizeBytes / 2 ** 20 : null;
}

export async function labBench(): Promise<{ rows: Row[]; notes: string[] }> {
  log('docker lab (warming the image cache)…');
  const warm = await runDockerLab({ runId: `bench-warm-${process.pid}`, updateLatest: false, projectName: 'audiolabbench' });
  await rm(warm.runDir, { recursive: true, force: true });
  log('docker lab (timed)…');
  const t0 = performance.now();
  const r = await runDockerLab({ runId: `bench-${process.pid}`, updateLatest: false, projectName: 'audiolabbench' });
  const docker = (performance.now() - t0) / 1000;
  await rm(r.runDir, { recursive: true, force: true });
  if (!r.ok) throw new Error(`the docker lab failed: ${r.failures.join('; ')}`);
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
    { bench: 'npm run lab (warm image cache) → report', metric: 'wall time', ours: docker, reference: local, refName: 'same scenario as local processes (--runtime local)', unit: 's' },
    { bench: 'image tcp-audio-lab (server, clients, analysis)', metric: 'size', ours: (await imageSize('tcp-audio-lab:latest')) ?? NaN, reference: await imageSize(base), refName: `its base ${base}`, unit: 'MiB' },
    { bench: 'image tcp-audio-lab-capture (tcpdump sidecar, netsetup)', metric: 'size', ours: (await imageSize('tcp-audio-lab-capture:latest')) ?? NaN, reference: await imageSize(capBase), refName: `its base ${capBase}`, unit: 'MiB' },
  ];
  return { rows, notes: [`The Docker lab takes ${docker.toFixed(1)} s from \`npm run lab\` to the report with a warm image cache (the build is a cache hit); the local runtime runs the same scenario in ${local.toFixed(1)} s.`] };
}
