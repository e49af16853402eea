/** The audiolab command as a user runs it: help everywhere, exit codes, and a real session. */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { ROOT, startServer, tempDir, type TestLab } from '../helpers.ts';
import { COMMANDS } from '../../cli/main.ts';
import { writeSyntheticCapture } from '../../bench/synth-capture.ts';

const exec = promisify(execFile);
let lab: TestLab | undefined;
afterEach(async () => { await lab?.close(); lab = undefined; });

async function audiolab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return audiolabWith({}, ...args);
}

async function audiolabWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), ...args], { env: { ...process.env, CI: '1', ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('audiolab CLI', () => {
  it('exits 0, quietly, when the reader of its output goes away (analyze --json - | head)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'many.pcap');
    writeSyntheticCapture(file, 20_000, 50); // ~450 KB of JSON: more than a pipe holds
    const r = await new Promise<{ code: number | null; stderr: string; got: number }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), 'analyze', file, '--tcp-only', '--json', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let got = 0;
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.stdout.once('data', (d: Buffer) => { got = d.length; child.stdout.destroy(); });
      child.on('close', (code) => resolve({ code, stderr, got }));
    });
    expect(r.got).toBeGreaterThan(0);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at /);
  });

  it('prints the command list with --help', async () => {
    const r = await audiolab('--help');
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.name);
  });

  it('has --help on every command', async () => {
    for (const c of COMMANDS) {
      const r = await audiolab(c.name, '--help');
      expect(r.code, c.name).toBe(0);
      expect(r.stdout).toContain(`Usage: audiolab ${c.name}`);
    }
  });

  it('exits 2 on usage errors and 1 on failures, with a coded message', async () => {
    expect((await audiolab('dance')).code).toBe(2);
    const missing = await audiolab('play');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('AUDIOLAB_ERR_USAGE');
    // options with no command are the menu's, as the README's hand-run line uses them
    const menu = await audiolab('--name', 'client-a', '--server', '127.0.0.1:1');
    expect(menu.stderr).not.toContain('unknown command');
    expect(menu.stderr).toContain('AUDIOLAB_ERR_CONNECTION');
    const refused = await audiolab('list', '--server', '127.0.0.1:1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('AUDIOLAB_ERR_CONNECTION');
  });

  it('lists, plays, replays from cache and uploads against a real server', async () => {
    lab = await startServer();
    const s = ['--server', `127.0.0.1:${lab.port}`];
    const list = await audiolab('list', ...s);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ode-to-joy\.wav\s+4\.0 s\s+44100 Hz stereo 16-bit/);
    const json = JSON.parse((await audiolab('list', ...s, '--json')).stdout) as unknown[];
    expect(json).toHaveLength(4);
    const cache = await tempDir();
    const first = await audiolab('play', 'ode-to-joy.wav', ...s, '--sink', 'null', '--cache', cache);
    expect(first.stdout).toMatch(/689\.1 KiB downloaded/);
    const again = await audiolab('play', 'ode-to-joy.wav', ...s, '--sink', 'null', '--cache', cache);
    expect(again.stdout).toMatch(/from cache \(no network transfer\)/);
    // a wav: sink into a folder that does not exist is said, and the folder is not made
    const nowhere = join(cache, 'no', 'such', 'dir');
    const rec = await audiolab('play', 'ode-to-joy.wav', ...s, '--sink', `wav:${join(nowhere, 'x.wav')}`, '--cache', await tempDir());
    expect(rec.code).toBe(1);
    expect(rec.stderr).toContain('AUDIOLAB_ERR_SINK');
    expect(existsSync(join(cache, 'no'))).toBe(false);
    const up = await audiolab('upload', join(ROOT, 'music/chimes-32bit-16k.wav'), '--as', '../../etc/passwd', ...s);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('AUDIOLAB_ERR_BAD_NAME');
  });
});

describe('audiolab scenario', () => {
  it('takes $AUDIOLAB_SERVER when the file names no server, and exits 2 on a file that is not a scenario', async () => {
    lab = await startServer();
    const dir = await tempDir();
    await writeFile(join(dir, 'list.json'), JSON.stringify({ name: 'x', cache: join(dir, 'c'), steps: [{ do: 'list', minSongs: 4 }, { do: 'quit' }] }));
    const ok = await audiolabWith({ AUDIOLAB_SERVER: `127.0.0.1:${lab.port}` }, 'scenario', join(dir, 'list.json'));
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ steps: [{ do: 'dance' }] }));
    const bad = await audiolab('scenario', join(dir, 'bad.json'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('AUDIOLAB_ERR_USAGE');
    expect((await audiolab('scenario', join(dir, 'missing.json'))).code).toBe(2);
  });
});

describe('interactive menu', () => {
  it('shows the numbered menu, lists songs and quits', async () => {
    lab = await startServer();
    const child = (await import('node:child_process')).spawn(process.execPath, [join(ROOT, 'bin/audiolab.mjs'), 'menu', '--server', `127.0.0.1:${lab.port}`, '--name', 'menu-user'], { env: { ...process.env, CI: '1' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stdin.write('1\n');
    // the catalog is on the screen (a song of music/), then quit
    await new Promise<void>((resolve) => child.stdout.on('data', () => { if (out.includes('ode-to-joy.wav')) resolve(); }));
    child.stdin.write('7\n');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out).toContain('1) List songs');
    expect(out).toContain('6) Send my song to another client');
    expect(out).toMatch(/ode-to-joy\.wav\s+4\.0 s\s+44100 Hz stereo 16-bit/);
  });
});
