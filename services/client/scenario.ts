/**
 * Scenario mode: a small declarative JSON file of steps, run without a terminal (the lab's clients
 * run one each). Stops at the first failing step; the caller exits non-zero then.
 *
 * { "name": "client-a", "server": "${AUDIOLAB_SERVER}", "steps": [ { "do": "list" }, ... ] }
 * Strings may use ${VAR} and ${VAR:-default} from the environment.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AudioLabError, toAudioLabError } from '../protocol/errors.ts';
import { MAX_STREAMS_PER_CLIENT } from '../protocol/index.ts';
import { AudioLabClient, parseServerAddress } from './client.ts';
import { SongCache } from './cache.ts';
import { playSong } from './player.ts';
import { Receiver, takesManyStreams } from './receiver.ts';
import { createSink, RecorderSink } from './sinks/index.ts';
import type { AudioSink } from './sinks/sink.ts';
import type { StreamHeader } from './incoming.ts';

export type Step =
  | { do: 'connect' }
  | { do: 'wait-for'; client: string; listening?: boolean; timeoutMs?: number; count?: number | string }
  | { do: 'list'; expectSongs?: string[]; minSongs?: number }
  | { do: 'play'; song: string; sink?: string; realtime?: boolean; expectCached?: boolean }
  | { do: 'upload'; file: string; as?: string }
  | { do: 'listen'; count: number; recordDir?: string; sink?: string; realtime?: boolean; timeoutMs?: number }
  | { do: 'play-on'; client: string; song: string }
  | { do: 'send-to'; client: string; file: string }
  | { do: 'wait'; ms: number }
  | { do: 'quit' };

export interface Scenario {
  name?: string;
  server?: string;
  bind?: string;
  cache?: string;
  steps: Step[];
}

export interface StepResult {
  index: number;
  step: Step;
  ok: boolean;
  ms: number;
  startedAt: string;
  detail: string;
  error?: { code: string; message: string };
}

const STEP_KINDS = ['connect', 'wait-for', 'list', 'play', 'upload', 'listen', 'play-on', 'send-to', 'wait', 'quit'];

export function interpolate(s: string, env: NodeJS.ProcessEnv = process.env): string {
  return s.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/gi, (_, name: string, def: string | undefined) => env[name] ?? def ?? '');
}

function deepInterpolate<T>(v: T): T {
  if (typeof v === 'string') return interpolate(v) as T;
  if (Array.isArray(v)) return v.map(deepInterpolate) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepInterpolate(x)])) as T;
  return v;
}

export async function loadScenario(path: string): Promise<Scenario> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new AudioLabError('AUDIOLAB_ERR_SCENARIO', `Cannot read scenario ${path}: ${(err as Error).message}`);
  }
  const sc = deepInterpolate(raw) as Scenario;
  if (!sc || !Array.isArray(sc.steps)) throw new AudioLabError('AUDIOLAB_ERR_SCENARIO', `${path}: "steps" must be an array`);
  sc.steps.forEach((s, i) => {
    if (!s || !STEP_KINDS.includes((s as { do: string }).do)) throw new AudioLabError('AUDIOLAB_ERR_SCENARIO', `${path}: step ${i + 1} has unknown "do": ${JSON.stringify((s as { do?: unknown })?.do)} (one of ${STEP_KINDS.join(', ')})`);
  });
  // file paths are relative to the scenario file
  const base = dirname(resolve(path));
  for (const s of sc.steps) {
    if ((s.do === 'upload' || s.do === 'send-to') && !s.file.startsWith('/')) s.file = join(base, s.file);
  }
  return sc;
}

/** `*` in a client name matches any characters. */
export function matches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

export async function runScenario(sc: Scenario, opts: { onStep?: (r: StepResult) => void; server?: string; name?: string } = {}): Promise<{ ok: boolean; results: StepResult[] }> {
  const { host, port } = parseServerAddress(opts.server ?? sc.server);
  const client = new AudioLabClient({ host, port, name: opts.name ?? sc.name ?? 'scenario', ...(sc.bind ? { localAddress: sc.bind } : {}) });
  const cache = new SongCache(sc.cache ?? join(process.cwd(), '.cache', 'scenario-songs'));
  const results: StepResult[] = [];
  // streams pushed to us are played as they come, each into the sink of the listen step under way
  let listening: Extract<Step, { do: 'listen' }> = { do: 'listen', count: 0 };
  const receiverOptions = {
    maxConcurrent: 8,
    sinkFor: async (h: StreamHeader): Promise<AudioSink> => (listening.recordDir
      ? new RecorderSink(join(listening.recordDir, `${h.from ?? 'server'}--${h.song}`), { realtime: listening.realtime ?? false, createDirs: true })
      : createSink(listening.sink ?? 'null', { realtime: listening.realtime ?? false, createDirs: true })),
  };
  const receiver = new Receiver(client, receiverOptions);
  const outcomes: Array<{ text: string } | { error: AudioLabError }> = [];
  let wake: (() => void) | undefined;
  receiver.on('received', (h, pcm) => { outcomes.push({ text: `${h.kind} ${h.song} from ${h.from} (${pcm} PCM bytes)` }); wake?.(); });
  receiver.on('failed', (h, error) => { outcomes.push({ error: new AudioLabError(error.code, `${h.kind} ${h.song} from ${h.from}: ${error.message}`) }); wake?.(); });

  /** A plain name is one target; a pattern ("listener*") is every listening client it matches. */
  const targetsOf = (name: string): string[] => (name.includes('*') ? client.clients.filter((c) => c.listening && matches(name, c.name)).map((c) => c.name) : [name]);

  const run = async (step: Step): Promise<string> => {
    switch (step.do) {
      case 'connect': {
        const w = await client.connect();
        const more = w.online - w.clients.length;
        return `${w.motd} (online: ${w.clients.map((c) => c.name).join(', ')}${more > 0 ? ` and ${more} more` : ''})`;
      }
      case 'wait-for': {
        // `client` may be a pattern ("listener*"); `count` says how many must match (default 1)
        const want = Number(step.count ?? 1);
        const end = Date.now() + (step.timeoutMs ?? 30_000);
        const found = (): number => client.clients.filter((c) => matches(step.client, c.name) && (step.listening === undefined || c.listening === step.listening)).length;
        while (found() < want) {
          if (Date.now() > end) throw new AudioLabError('AUDIOLAB_ERR_TIMEOUT', `${want === 1 ? step.client : `${want} × ${step.client}`} did not show up${step.listening ? ' listening' : ''}`);
          await new Promise((r) => setTimeout(r, 50));
          // the list is only a count after many changes at once: ask for it whole
          if (!client.listComplete) await client.who();
        }
        return want === 1 && !step.client.includes('*') ? `${step.client} is online${step.listening ? ' and listening' : ''}` : `${found()} client(s) matching ${step.client} online`;
      }
      case 'list': {
        const songs = await client.list();
        const names = songs.map((s) => s.name);
        for (const want of step.expectSongs ?? []) if (!names.includes(want)) throw new AudioLabError('AUDIOLAB_ERR_SCENARIO', `catalog lacks ${want}`);
        if (songs.length < (step.minSongs ?? 0)) throw new AudioLabError('AUDIOLAB_ERR_SCENARIO', `catalog has ${songs.length} songs, want at least ${step.minSongs}`);
        return `${songs.length} songs: ${names.join(', ')}`;
      }
      case 'play': {
        const sink = await createSink(step.sink ?? 'null', { realtime: step.realtime ?? false, createDirs: true });
        const r = await playSong(client, step.song, { cache, sink });
        if (step.expectCached !== undefined && r.fromCache !== step.expectCached) {
          throw new AudioLabError('AUDIOLAB_ERR_SCENARIO', `expected ${step.expectCached ? 'a cache hit' : 'a download'}, got ${r.fromCache ? 'a cache hit' : 'a download'}`);
        }
        return `${r.song.name}: ${r.fromCache ? 'from cache, no transfer' : `${r.downloadedBytes} bytes downloaded`}; first audio after ${r.firstAudioMs.toFixed(1)} ms; ${r.underruns.length} underruns`;
      }
      case 'upload': {
        const d = await client.upload(step.file, step.as);
        return `uploaded as ${d.name} (${d.song.size} bytes)`;
      }
      case 'listen': {
        listening = step;
        // one device or wav: file takes one stream at a time (others are refused as busy)
        receiverOptions.maxConcurrent = takesManyStreams(step.sink ?? 'null', step.recordDir) ? 8 : 1;
        await client.listen(true);
        const end = Date.now() + (step.timeoutMs ?? 120_000);
        const got: string[] = [];
        while (got.length < step.count) {
          let o = outcomes.shift();
          while (!o) {
            const left = end - Date.now();
            if (left <= 0) throw new AudioLabError('AUDIOLAB_ERR_TIMEOUT', `received ${got.length} of ${step.count} streams`);
            await new Promise<void>((r) => { wake = r; setTimeout(r, Math.min(left, 200)); });
            o = outcomes.shift();
          }
          if ('error' in o) throw o.error;
          got.push(o.text);
        }
        return got.join('; ');
      }
      case 'play-on': {
        const targets = targetsOf(step.client);
        const oks = await Promise.all(targets.map((t) => client.playOn(t, step.song)));
        return targets.length ? `${step.song} played on ${targets.join(', ')} (${oks.map((o) => o.bytes).join(', ')} bytes)` : `nobody matches ${step.client}`;
      }
      case 'send-to': {
        const targets = targetsOf(step.client);
        // each relay is one of this client's streams: at most MAX_STREAMS_PER_CLIENT at once
        const oks = await atMost(MAX_STREAMS_PER_CLIENT, targets, (t) => client.sendTo(t, step.file));
        return targets.length ? `relayed to ${targets.join(', ')} (${oks.map((o) => o.bytes).join(', ')} bytes)` : `nobody matches ${step.client}`;
      }
      case 'wait':
        await new Promise((r) => setTimeout(r, step.ms));
        return `waited ${step.ms} ms`;
      case 'quit':
        await client.close();
        return 'closed';
    }
  };

  let ok = true;
  const steps: Step[] = sc.steps[0]?.do === 'connect' ? sc.steps : [{ do: 'connect' }, ...sc.steps];
  for (const [index, step] of steps.entries()) {
    const t0 = performance.now();
    const startedAt = new Date().toISOString();
    try {
      const detail = await run(step);
      results.push({ index, step, ok: true, ms: performance.now() - t0, startedAt, detail });
    } catch (err) {
      const e = toAudioLabError(err, 'AUDIOLAB_ERR_SCENARIO');
      results.push({ index, step, ok: false, ms: performance.now() - t0, startedAt, detail: e.message, error: { code: e.code, message: e.message } });
      ok = false;
    }
    opts.onStep?.(results.at(-1)!);
    if (!ok) break;
  }
  if (client.connected) await client.close().catch(() => {});
  return { ok, results };
}

/** Runs `fn` on every item, at most `n` at once; the results in the items' order. */
async function atMost<T, R>(n: number, items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}
