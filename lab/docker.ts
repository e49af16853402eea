/**
 * `audiolab lab --runtime docker` (and `npm run lab`): `docker compose up` with what a person wants
 * around it — Compose v2 or v1 picked, the run's id and the host user passed in, progress as the run
 * goes, a check of every container's exit code, the host-side facts added to the manifest (image
 * ids, versions), `runs/latest`, and the containers and network removed afterwards. Ctrl-C stops the
 * containers (the capture sidecar flushes a valid file) and exits 130.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { AudioLabError } from '../services/protocol/errors.ts';
import { newRunId, pointLatest } from './runs.ts';
import { checkListenerRecordings } from './recordings.ts';
import { contextFingerprint, imagesCurrent, recordImages } from './image-cache.ts';
import { readManifest, type LabManifest } from '../analysis/app/manifest.ts';

const run = promisify(execFile);
export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const PROFILES = ['clean', 'lossy', 'slow', 'jittery'] as const;

export interface DockerLabOptions {
  runsDir?: string;
  profile?: string;
  /** Extra listeners (the `listener` service scaled to N). */
  scale?: number;
  runId?: string;
  projectName?: string;
  /** Build the images first (default true; layers are cached). */
  build?: boolean;
  /** Point runs/latest at this run (default true). */
  updateLatest?: boolean;
  onStep?: (message: string) => void;
  /** Resolves to stop the run early (as Ctrl-C does). */
  signal?: AbortSignal;
}

export interface DockerLabResult {
  ok: boolean;
  interrupted: boolean;
  runDir: string;
  capture: string;
  failures: string[];
  seconds: number;
}

const SETUP = 'bash scripts/setup.sh --docker';

/**
 * Checks that this machine can run the Docker lab before anything starts: a reachable engine and a
 * base image to build on (the official one, or the one setup built locally). Each miss is a coded
 * error naming the one command that fixes it.
 */
export async function preflight(env: Record<string, string | undefined>): Promise<void> {
  const notSetUp = (what: string): AudioLabError => new AudioLabError('AUDIOLAB_ERR_NOT_SET_UP', `${what}; run: ${SETUP}`);
  try {
    // `docker version` fails when the engine is down, even for the client's version: --version never asks it
    await run('docker', ['--version']);
  } catch {
    throw notSetUp('Docker is not installed');
  }
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 20_000 });
  } catch {
    throw notSetUp('no Docker engine is running (or this user may not reach it)');
  }
  const base = env.BASE_IMAGE ?? 'node:24-bookworm-slim';
  if (!env.BASE_IMAGE && !(await imageInfo(base))) throw notSetUp(`the lab's base image (${base}) is not here and setup has not built a local one`);
  if (env.BASE_IMAGE && !(await imageInfo(env.BASE_IMAGE))) throw notSetUp(`the base image setup recorded (${env.BASE_IMAGE}) is gone`);
}

/** `docker compose` (v2) when present, else `docker-compose` (v1.29). */
export async function composeCommand(): Promise<string[]> {
  try {
    await run('docker', ['compose', 'version']);
    return ['docker', 'compose'];
  } catch {
    try {
      await run('docker-compose', ['version']);
      return ['docker-compose'];
    } catch {
      throw new AudioLabError('AUDIOLAB_ERR_NOT_SET_UP', `Neither \`docker compose\` (v2) nor \`docker-compose\` (v1) is installed; run: ${SETUP}`);
    }
  }
}

/** Settings scripts/docker-up.sh recorded (the locally built base image where no registry is reachable). */
export function localDockerEnv(): Record<string, string> {
  const file = join(ROOT, '.cache/docker.env');
  if (!existsSync(file)) return {};
  return Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const STAGES: Array<[string, string]> = [
  ['hosts/server.json', 'capture listening (tcpdump in the server\'s network namespace, offloads off)'],
  ['hosts/client-b.json', 'client-b\'s network ready'],
  ['hosts/client-a.json', 'client-a\'s network ready; the scenario starts'],
  ['client-b.done', 'client-b finished (listened to the play-on and the relay)'],
  ['client-a.done', 'client-a finished (list, play, replay from cache, upload, play-on, send-to)'],
  ['capture.done', 'capture complete and flushed'],
  ['lab.json', 'manifest written'],
  ['report.html', 'report written'],
];

export async function runDockerLab(o: DockerLabOptions = {}): Promise<DockerLabResult> {
  const say = o.onStep ?? (() => {});
  const profile = o.profile ?? 'clean';
  if (!(PROFILES as readonly string[]).includes(profile)) throw new AudioLabError('AUDIOLAB_ERR_USAGE', `unknown profile ${JSON.stringify(profile)} (one of ${PROFILES.join(', ')})`);
  const compose = await composeCommand();
  const dockerEnv = localDockerEnv();
  await preflight({ BASE_IMAGE: process.env.BASE_IMAGE, ...dockerEnv });
  const runsDir = resolve(o.runsDir ?? join(ROOT, 'runs'));
  const runId = o.runId ?? newRunId();
  const runDir = join(runsDir, runId);
  await mkdir(join(runDir, 'recordings'), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...dockerEnv,
    RUN_ID: runId, LAB_PROFILE: profile, LISTENERS: String(o.scale ?? 0), LAB_POINT_LATEST: '0',
    HOST_UID: String(process.getuid?.() ?? 1000), HOST_GID: String(process.getgid?.() ?? 1000),
    COMPOSE_PROJECT_NAME: o.projectName ?? process.env.COMPOSE_PROJECT_NAME ?? 'audiolab',
  };
  // compose reads ./runs relative to the compose file: a different runs folder is linked in
  if (runsDir !== join(ROOT, 'runs')) throw new AudioLabError('AUDIOLAB_ERR_USAGE', 'the Docker lab writes into the repository\'s runs/ folder (the compose file mounts ./runs)');
  const [cmd, ...pre] = compose;
  const scaleArgs = (o.scale ?? 0) > 0 ? ['--scale', `listener=${o.scale}`] : [];
  const t0 = Date.now();
  if (o.build !== false) {
    // Skipped when nothing the images are built from changed since we built them (image-cache.ts).
    // One build per image (server → tcp-audio-lab, capture → tcp-audio-lab-capture): `up --build`
    // would build every service that names a Dockerfile, sending the context each time.
    const contexts = [
      { dir: ROOT, image: 'tcp-audio-lab:latest', baseId: (await imageInfo(env.BASE_IMAGE ?? 'node:24-bookworm-slim'))?.id ?? '' },
      { dir: join(ROOT, 'capture'), image: 'tcp-audio-lab-capture:latest', baseId: (await imageInfo(env.CAPTURE_BASE_IMAGE ?? 'debian:bookworm-slim'))?.id ?? '' },
    ];
    const fingerprints = contexts.map(contextFingerprint);
    const ids = async (): Promise<Array<string | null>> => Promise.all(contexts.map(async (c) => (await imageInfo(c.image))?.id ?? null));
    if (imagesCurrent(ROOT, fingerprints, await ids())) {
      say('the images are up to date (nothing they are built from changed)');
    } else {
      say('building the images (cached layers are reused)');
      await run(cmd!, [...pre, 'build', 'server', 'capture'], { cwd: ROOT, env, maxBuffer: 64 << 20 }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
        // the legacy builder's advice about buildx is not the cause: the lines before it are
        const lines = `${err.stdout ?? ''}\n${err.stderr ?? err.message}`.split('\n').map((l) => l.trim())
          .filter((l) => l && !/buildx|legacy builder|BuildKit|^DEPRECATED/i.test(l));
        throw new AudioLabError('AUDIOLAB_ERR_DOCKER_UNAVAILABLE', `building the images failed: ${lines.slice(-5).join(' | ')}`);
      });
      const built = await ids();
      if (built.every((id): id is string => id !== null)) recordImages(ROOT, fingerprints, built);
    }
  }
  say(`${compose.join(' ')} up (run ${runId}, profile ${profile}${o.scale ? `, ${o.scale} extra listener(s)` : ''})`);
  const logFile = join(runDir, 'compose.log');
  const log: Buffer[] = [];
  const child = spawn(cmd!, [...pre, 'up', ...scaleArgs], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => log.push(c));
  child.stderr!.on('data', (c: Buffer) => log.push(c));
  let interrupted = false;
  const stop = (): void => {
    if (interrupted) return;
    interrupted = true;
    say('stopping: the containers get SIGTERM; the capture sidecar flushes the file');
    void run(cmd!, [...pre, 'stop', '-t', '15'], { cwd: ROOT, env }).catch(() => {});
  };
  o.signal?.addEventListener('abort', stop);
  const seen = new Set<string>();
  const poll = setInterval(() => {
    for (const [file, text] of STAGES) {
      if (!seen.has(file) && existsSync(join(runDir, file))) {
        seen.add(file);
        say(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${text}`);
      }
    }
  }, 250);
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  clearInterval(poll);
  o.signal?.removeEventListener('abort', stop);
  await writeFile(logFile, Buffer.concat(log));
  const failures: string[] = [];
  if (code !== 0 && !interrupted) failures.push(`${compose.join(' ')} up exited ${code}; see ${logFile}`);
  // every container must have exited 0 (compose up returns 0 even when one failed)
  const states = await containerStates(compose, env);
  for (const s of states) if (s.exitCode !== 0 && !interrupted) failures.push(`${s.service} exited ${s.exitCode}: ${await lastWords(s.id)} (all of it: ${logFile})`);
  if (!interrupted) {
    for (const f of ['capture.pcap', 'lab.json', 'report.html']) if (!existsSync(join(runDir, f))) failures.push(`${f} is missing from ${runDir}`);
    if ((o.scale ?? 0) > 0) {
      const rec = await checkListenerRecordings(runDir, o.scale!, join(ROOT, 'music'));
      failures.push(...rec.failures);
      say(rec.summary);
    }
  }
  if (existsSync(join(runDir, 'lab.json'))) await addHostFacts(join(runDir, 'lab.json'), compose, env, failures, Date.now() - t0);
  await run(cmd!, [...pre, 'down', '--remove-orphans'], { cwd: ROOT, env }).catch(() => {});
  if (runId !== 'latest' && o.updateLatest !== false) await pointLatest(runsDir, runId);
  return { ok: failures.length === 0 && !interrupted, interrupted, runDir, capture: join(runDir, 'capture.pcap'), failures, seconds: (Date.now() - t0) / 1000 };
}

interface ContainerState { id: string; service: string; exitCode: number }

/** The last lines a container wrote (its reason for failing), on one line. */
export async function lastWords(id: string): Promise<string> {
  const r = await run('docker', ['logs', '--tail', '4', id], { maxBuffer: 1 << 20 }).catch(() => ({ stdout: '', stderr: '' }));
  const text = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
  return text.length > 400 ? `…${text.slice(-400)}` : text || 'it printed nothing';
}

async function containerStates(compose: string[], env: NodeJS.ProcessEnv): Promise<ContainerState[]> {
  // the project's containers by their label: the docker CLI starts in milliseconds, Compose v1 in most of a second
  const project = env.COMPOSE_PROJECT_NAME;
  const [cmd, ...pre] = compose;
  const ids = (project
    ? await run('docker', ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${project}`])
    : await run(cmd!, [...pre, 'ps', '-a', '-q'], { cwd: ROOT, env })).stdout.trim().split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const out = (await run('docker', ['inspect', '--format', '{{.Id}} {{index .Config.Labels "com.docker.compose.service"}} {{.State.ExitCode}}', ...ids])).stdout;
  return out.trim().split('\n').map((l) => {
    const [id, service, code] = l.split(' ');
    return { id: id!, service: service!, exitCode: Number(code) };
  });
}

/** An image's id and size, or null when Docker does not have it. */
export async function imageInfo(image: string): Promise<{ id: string; sizeBytes: number } | null> {
  const v = (await run('docker', ['image', 'inspect', '--format', '{{.Id}} {{.Size}}', image]).catch(() => ({ stdout: '' }))).stdout.trim();
  if (!v) return null;
  const [id, size] = v.split(' ');
  return { id: id!, sizeBytes: Number(size) };
}

async function addHostFacts(path: string, compose: string[], env: NodeJS.ProcessEnv, failures: string[], ms: number): Promise<void> {
  const m = readManifest(path);
  const images: NonNullable<LabManifest['images']> = {};
  const version = async (args: string[]): Promise<string | null> => (await run(args[0]!, args.slice(1)).catch(() => ({ stdout: '' }))).stdout.trim().split('\n')[0] || null;
  // at once: each is a process start (Compose v1's is most of a second)
  const names = ['tcp-audio-lab:latest', 'tcp-audio-lab-capture:latest'];
  const [infos, engine, composeVersion] = await Promise.all([
    Promise.all(names.map(imageInfo)),
    version(['docker', 'version', '--format', '{{.Server.Version}}']),
    version([...compose, 'version', '--short']),
  ]);
  names.forEach((image, i) => { const v = infos[i]; if (v) images[image] = v; });
  m.images = images;
  m.docker = { engine, compose: composeVersion, baseImage: env.BASE_IMAGE ?? 'node:24-bookworm-slim' };
  m.wallSeconds = Math.round(ms / 100) / 10;
  m.ok = failures.length === 0;
  m.failures = failures;
  await writeFile(path, JSON.stringify(m, null, 2));
}
