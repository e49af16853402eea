/**
 * `audiolab analyze` as a user runs it (bin/audiolab.mjs through its first line):
 * JSON to a file and to a pipe (complete, the same document as the in-process analysis), the
 * terminal summary, the report folder, and coded errors for bad files.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.ts';
import { writeSyntheticCapture } from '../../bench/synth-capture.ts';
import { analyzeTcpOnly } from '../../analysis/app/tcp-only.ts';

const exec = promisify(execFile);
const BIN = join(ROOT, 'bin/audiolab.mjs');
// the bin runs under the `node` on the PATH: the node running these tests
const ENV = { ...process.env, CI: '1', PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(BIN, args, { env: ENV, timeout: 60_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('audiolab analyze (the command)', () => {
  let dir = '';
  let capture = '';
  beforeAll(async () => {
    dir = await tempDir();
    capture = join(dir, 'fifty.pcap');
    writeSyntheticCapture(capture, 20_000, 50);
  });

  it('runs as a user runs it (bin/audiolab.mjs) and writes the whole JSON to a file and to a pipe', async () => {
    const file = join(dir, 'out.json');
    const toFile = await run(['analyze', capture, '--tcp-only', '--json', file]);
    expect(toFile.code).toBe(0);
    const written = await readFile(file, 'utf8');
    const expected = JSON.parse(JSON.stringify(analyzeTcpOnly(capture))) as { connections: unknown[] };
    expect(JSON.parse(written)).toEqual(expected);
    expect(expected.connections).toHaveLength(50);
    const toPipe = await run(['analyze', capture, '--tcp-only', '--json', '-']);
    expect(toPipe.code).toBe(0);
    expect(toPipe.stdout.trimEnd()).toBe(written);
  });

  it('lists the first 20 connections on the terminal and says how many more there are', async () => {
    const r = await run(['analyze', capture, '--tcp-only', '--json', join(dir, 'x.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^ {2}#\d+ /gm)).toHaveLength(20);
    expect(r.stdout).toContain('… and 30 more connection(s)');
    // the capture is described once, not again in another format by the summary after the list
    expect(r.stdout.match(/^fifty\.pcap: /gm)).toHaveLength(1);
    expect(r.stderr).toMatch(/analysed in/);
  });

  it('writes the report folder with --out', async () => {
    const out = join(dir, 'report');
    const r = await run(['analyze', capture, '--out', out]);
    expect(r.code).toBe(0);
    const files = await readdir(out);
    for (const f of ['report.html', 'report.md', 'report.json', 'charts']) expect(files).toContain(f);
    expect((await readdir(join(out, 'charts'))).length).toBeGreaterThan(0);
    // the capture is a file: read again for a time–sequence graph of each drawn connection
    expect((await readdir(join(out, 'charts'))).filter((f) => f.startsWith('tsg-')).length).toBeGreaterThanOrEqual(24);
    // standard input cannot be read twice: the report says what it left out
    const piped = join(dir, 'report-stdin');
    const viaStdin = await new Promise<number>((resolve) => {
      const child = execFile(BIN, ['analyze', '-', '--out', piped], { env: ENV }, (err) => resolve(err ? (err as unknown as { code: number }).code : 0));
      void readFile(capture).then((b) => child.stdin!.end(b));
    });
    expect(viaStdin).toBe(0);
    expect(await readFile(join(piped, 'report.html'), 'utf8')).toContain('need a second read of the capture');
  });

  it('exits 1 with a coded error for a file that is not a capture, and for a missing one', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'not a capture at all\n');
    const bad = await run(['analyze', text]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('AUDIOLAB_ERR_CAPTURE_FORMAT');
    const missing = await run(['analyze', join(dir, 'nothing.pcap')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('AUDIOLAB_ERR_');
    // standard input is named as such, not as "-"
    const stderr = await new Promise<string>((resolve) => {
      const child = execFile(BIN, ['analyze', '-'], { env: ENV }, (_err, _out, err) => resolve(String(err)));
      child.stdin!.end('not a capture at all\n');
    });
    expect(stderr).toContain('AUDIOLAB_ERR_CAPTURE_FORMAT: standard input is not a pcap or pcapng capture');
  });
});
