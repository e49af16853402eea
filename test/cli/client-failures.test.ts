/**
 * The client as a user runs it, when things go wrong: the CLI as processes, a server killed with
 * SIGKILL, Ctrl-C (SIGINT), input at EOF, a slow link (a throttling proxy), two streams started
 * together. Every case ends with a message and the exit code of the table (0, 1, 2, 130), and no
 * file appears under its final name unless it is whole.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { bigWav, MUSIC, ROOT, tempDir } from '../helpers.ts';
import { parseWavHeader } from '../../services/common/wav.ts';
import { probeSpeaker } from '../../services/client/sinks/speaker.ts';
import { audiolabProc, killAll, serverProc, throttleProxy, type Proc } from './processes.ts';

afterEach(() => killAll());

async function musicDir(): Promise<string> {
  const dir = await tempDir('audiolab-music-');
  for (const f of ['ode-to-joy.wav', 'frere-jacques-8bit.wav']) await cp(join(MUSIC, f), join(dir, f));
  // 2 MiB of 44.1 kHz stereo: 11.9 s played in real time
  await writeFile(join(dir, 'long.wav'), bigWav(2 * 1024 * 1024, 7));
  return dir;
}

/** Resolves once `path` exists (polled: a file's appearance is the readiness signal). */
async function fileAppears(path: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`${path} did not appear`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once the cache's download in progress (its .part file) holds at least `bytes`. */
async function partReaches(cache: string, bytes: number): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const part = (await readdir(cache).catch(() => [] as string[])).find((f) => f.endsWith('.part'));
    if (part && ((await stat(join(cache, part)).catch(() => null))?.size ?? 0) >= bytes) return;
    if (Date.now() > end) throw new Error(`no download of ${bytes} bytes in ${cache}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A WAV file whose header's data size matches the bytes that follow it. */
async function wholeWav(path: string): Promise<number> {
  const buf = await readFile(path);
  const h = parseWavHeader(buf, buf.length);
  expect(h, path).toBeTruthy();
  expect(h!.dataOffset + h!.dataLength, path).toBe(buf.length);
  return h!.dataLength;
}

const noCrash = (p: Proc): void => {
  expect(p.stderr()).not.toMatch(/unsettled top-level await|Error: .*\n\s+at |node:internal/);
};

describe('the menu', () => {
  it('ends with exit 1 and says what to do when the server is killed', async () => {
    const { proc: server, address } = await serverProc(await musicDir());
    const menu = audiolabProc(['menu', '--server', address, '--name', 'm', '--sink', 'null', '--cache', await tempDir()]);
    await menu.waitFor(/Choose \[1-7\]/);
    server.child.kill('SIGKILL');
    const { code } = await menu.exit;
    expect(code).toBe(1);
    expect(menu.stderr()).toMatch(/AUDIOLAB_ERR_CONNECTION.*Start it \(audiolab server\)/);
    noCrash(menu);
  });

  it('ends with exit 0 when its input ends (< /dev/null), and after piped choices', async () => {
    const { address } = await serverProc(await musicDir());
    const devnull = audiolabProc(['menu', '--server', address, '--sink', 'null'], { stdin: 'ignore' });
    expect((await devnull.exit).code).toBe(0);
    expect(devnull.stdout()).toContain('Input ended');
    const piped = audiolabProc(['menu', '--server', address, '--sink', 'null']);
    piped.child.stdin!.end('1\n');
    expect((await piped.exit).code).toBe(0);
    expect(piped.stdout()).toContain('ode-to-joy.wav');
    noCrash(piped);
  });

  it('exits 130 on Ctrl-C', async () => {
    const { address } = await serverProc(await musicDir());
    const menu = audiolabProc(['menu', '--server', address, '--sink', 'null']);
    await menu.waitFor(/Choose \[1-7\]/);
    menu.child.kill('SIGINT');
    expect((await menu.exit).code).toBe(130);
    expect(menu.stderr()).toContain('interrupted');
  });

  it('exits 130 on Ctrl-C typed in a terminal (readline takes it there, not the process)', async () => {
    const { address } = await serverProc(await musicDir());
    // script(1) (util-linux) runs the menu on a pseudo-terminal; -e returns its exit code
    const child = spawn('script', ['-qefc', `${process.execPath} ${join(ROOT, 'bin/audiolab.mjs')} menu --server ${address} --sink null`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Choose [1-7]') && !child.stdin.writableEnded) child.stdin.end('\x03');
    });
    const [code] = await once(child, 'close') as [number];
    expect(out).toContain('interrupted (Ctrl-C)');
    expect(code).toBe(130);
  });

  it('shows each online client with its address', async () => {
    const { address } = await serverProc(await musicDir());
    const l = audiolabProc(['listen', '--server', address, '--name', 'lis', '--sink', 'null']);
    const [, addr] = await l.waitFor(/Listening as lis \((127\.0\.0\.1:\d+)\)/);
    const menu = audiolabProc(['menu', '--server', address, '--name', 'm', '--sink', 'null']);
    menu.child.stdin!.end('5\n');
    expect((await menu.exit).code).toBe(0);
    expect(menu.stderr()).toContain(`Online: lis (${addr}, listening)`);
    expect(menu.stdout()).toContain(`1) lis (${addr}) listening`);
  });
});

describe('listen', () => {
  it('exits 1 with a message when the server is killed, 130 on Ctrl-C', async () => {
    const { proc: server, address } = await serverProc(await musicDir());
    const a = audiolabProc(['listen', '--server', address, '--sink', 'null']);
    const b = audiolabProc(['listen', '--server', address, '--sink', 'null']);
    await a.waitFor(/Listening as/);
    await b.waitFor(/Listening as/);
    b.child.kill('SIGINT');
    expect((await b.exit).code).toBe(130);
    server.child.kill('SIGKILL');
    expect((await a.exit).code).toBe(1);
    expect(a.stderr()).toMatch(/AUDIOLAB_ERR_CONNECTION.*listen again/);
    noCrash(a);
  });

  it('with --realtime says how many underruns each stream had: none on a fast link, some on one slower than the song', async () => {
    const { address } = await serverProc(await musicDir());
    const slow = await throttleProxy(Number(address.split(':')[1]), 120_000, 'down');
    const fast = audiolabProc(['listen', '--server', address, '--name', 'fast', '--sink', 'null', '--realtime', '--count', '1']);
    const late = audiolabProc(['listen', '--server', slow.address, '--name', 'late', '--sink', 'null', '--realtime', '--count', '1']);
    await fast.waitFor(/Listening as/);
    await late.waitFor(/Listening as/);
    // ode-to-joy.wav is 176.4 kB/s of audio; the slow link carries 120 kB/s
    for (const who of ['fast', 'late']) expect((await audiolabProc(['play-on', who, 'ode-to-joy.wav', '--server', address]).exit).code).toBe(0);
    expect((await fast.exit).code).toBe(0);
    expect((await late.exit).code).toBe(0);
    expect(fast.stdout()).toMatch(/received play-on of ode-to-joy\.wav from .*, 0 underrun\(s\)/);
    expect(late.stdout()).toMatch(/received play-on of ode-to-joy\.wav from .*, [1-9]\d* underrun\(s\)/);
    expect(late.stderr()).toMatch(/underrun at .*: nothing to play for \d+ ms/);
    await slow.close();
  });

  it('says it refuses with --refuse, and the sender is told so', async () => {
    const { address } = await serverProc(await musicDir());
    const l = audiolabProc(['listen', '--server', address, '--name', 'no', '--refuse']);
    await l.waitFor(/refusing every stream/);
    expect(l.stderr()).not.toContain('can now play');
    const p = audiolabProc(['play-on', 'no', 'ode-to-joy.wav', '--server', address]);
    expect((await p.exit).code).toBe(1);
    expect(p.stderr()).toMatch(/AUDIOLAB_ERR_NOT_LISTENING/);
  });

  it('keeps no recording of a relay whose sender is killed, and goes on listening', async () => {
    const dir = await musicDir();
    const { address } = await serverProc(dir);
    const rec = await tempDir();
    const l = audiolabProc(['listen', '--server', address, '--name', 'rx', '--record-dir', rec]);
    await l.waitFor(/Listening as/);
    // A sender on a slow link (2 MB/s) with more than its socket buffers hold, so a kill comes
    // mid-relay; the receiver keeps up, so it hears of it at once (a stream's abort comes in band,
    // after the bytes before it).
    await writeFile(join(dir, 'big.wav'), bigWav(16 * 1024 * 1024, 5));
    const slow = await throttleProxy(Number(address.split(':')[1]), 2_000_000, 'up');
    const s = audiolabProc(['send-to', 'rx', join(dir, 'big.wav'), '--server', slow.address, '--name', 'tx']);
    await fileAppears(join(rec, 'tx--big.wav.recording'));
    s.child.kill('SIGKILL');
    await l.waitFor(/stream big\.wav from tx failed \(AUDIOLAB_ERR_PEER_GONE\)/);
    expect(await readdir(rec)).toEqual([]);
    // still listening: a whole stream is recorded whole
    const p = audiolabProc(['play-on', 'rx', 'frere-jacques-8bit.wav', '--server', address, '--name', 'pp']);
    expect((await p.exit).code).toBe(0);
    await l.waitFor(/received play-on of frere-jacques-8bit\.wav/);
    expect(await readdir(rec)).toEqual(['pp--frere-jacques-8bit.wav']);
    await wholeWav(join(rec, 'pp--frere-jacques-8bit.wav'));
    // Ctrl-C mid-relay: the recording under way is dropped, its sender told
    const s2 = audiolabProc(['send-to', 'rx', join(dir, 'big.wav'), '--server', slow.address, '--name', 'tx2']);
    await fileAppears(join(rec, 'tx2--big.wav.recording'));
    l.child.kill('SIGINT');
    expect((await l.exit).code).toBe(130);
    expect((await s2.exit).code).toBe(1);
    expect(s2.stderr()).toMatch(/AUDIOLAB_ERR_REFUSED.*interrupted/);
    expect(await readdir(rec)).toEqual(['pp--frere-jacques-8bit.wav']);
    await slow.close();
  });

  it('tells a sender its stream failed when the receiver is killed mid-way, even after every byte was sent', async () => {
    const dir = await musicDir();
    const { proc: server, address } = await serverProc(dir);
    const rec = await tempDir();
    const listener = async (name: string): Promise<Proc> => {
      const l = audiolabProc(['listen', '--server', address, '--name', name, '--record-dir', rec, '--realtime']);
      await l.waitFor(/Listening as/);
      return l;
    };
    // mid-relay: the sender is still sending
    let l = await listener('rx1');
    const s1 = audiolabProc(['send-to', 'rx1', join(dir, 'long.wav'), '--server', address, '--name', 'tx']);
    await fileAppears(join(rec, 'tx--long.wav.recording'));
    l.child.kill('SIGKILL');
    expect((await s1.exit).code).toBe(1);
    expect(s1.stdout()).not.toContain('relayed');
    expect(s1.stderr()).toMatch(/AUDIOLAB_ERR_PEER_GONE/);
    // the server has passed on every byte (the socket buffers hold them) but the receiver is still playing
    l = await listener('rx2');
    let from = server.mark();
    const s2 = audiolabProc(['send-to', 'rx2', join(dir, 'long.wav'), '--server', address, '--name', 'tx']);
    await server.waitFor(/"relay\.(sent|end)"/, 20_000, from);
    l.child.kill('SIGKILL');
    expect((await s2.exit).code).toBe(1);
    expect(s2.stdout()).not.toContain('relayed');
    expect(s2.stderr()).toMatch(/AUDIOLAB_ERR_PEER_GONE/);
    // the same for play-on
    l = await listener('rx3');
    from = server.mark();
    const p = audiolabProc(['play-on', 'rx3', 'long.wav', '--server', address]);
    await server.waitFor(/"stream\.end"[^\n]*"kind":"play-on"/, 20_000, from);
    l.child.kill('SIGKILL');
    expect((await p.exit).code).toBe(1);
    expect(p.stderr()).toMatch(/AUDIOLAB_ERR_PEER_GONE/);
    expect((await readdir(rec)).filter((f) => !f.endsWith('.recording'))).toEqual([]);
  });

  it('takes two streams started together: one device refuses the second as busy; a record folder takes both whole', async () => {
    const dir = await musicDir();
    const { address } = await serverProc(dir);
    const out = join(await tempDir(), 'one.wav');
    const one = audiolabProc(['listen', '--server', address, '--name', 'one', '--sink', `wav:${out}`, '--realtime', '--count', '1']);
    await one.waitFor(/Listening as/);
    const both = [
      audiolabProc(['play-on', 'one', 'ode-to-joy.wav', '--server', address]),
      audiolabProc(['send-to', 'one', join(dir, 'long.wav'), '--server', address]),
    ];
    const codes = await Promise.all(both.map(async (p) => (await p.exit).code));
    expect([...codes].sort()).toEqual([0, 1]);
    const refused = both[codes.indexOf(1)]!;
    expect(refused.stderr()).toMatch(/AUDIOLAB_ERR_REFUSED.*busy: already receiving/);
    expect((await one.exit).code).toBe(0);
    await wholeWav(out);
    noCrash(one);

    const rec = await tempDir();
    const many = audiolabProc(['listen', '--server', address, '--name', 'many', '--record-dir', rec, '--count', '2']);
    await many.waitFor(/Listening as/);
    const again = [
      audiolabProc(['play-on', 'many', 'ode-to-joy.wav', '--server', address, '--name', 'p']),
      audiolabProc(['send-to', 'many', join(dir, 'long.wav'), '--server', address, '--name', 's']),
    ];
    expect(await Promise.all(again.map(async (p) => (await p.exit).code))).toEqual([0, 0]);
    expect((await many.exit).code).toBe(0);
    expect((await readdir(rec)).sort()).toEqual(['p--ode-to-joy.wav', 's--long.wav']);
    expect(await wholeWav(join(rec, 's--long.wav'))).toBe(2 * 1024 * 1024 - 44);
    await wholeWav(join(rec, 'p--ode-to-joy.wav'));
  });

  it('lets a sender name the receiver by its address (IP:PORT) as well as by name', async () => {
    const { address } = await serverProc(await musicDir());
    const rec = await tempDir();
    const l = audiolabProc(['listen', '--server', address, '--name', 'by-addr', '--record-dir', rec, '--count', '1']);
    const [, addr] = await l.waitFor(/Listening as by-addr \((127\.0\.0\.1:\d+)\)/);
    const p = audiolabProc(['play-on', addr!, 'ode-to-joy.wav', '--server', address, '--name', 'p']);
    expect((await p.exit).code).toBe(0);
    expect((await l.exit).code).toBe(0);
    expect(await readdir(rec)).toEqual(['p--ode-to-joy.wav']);
  });
});

describe('play', () => {
  it('Ctrl-C keeps nothing under the recording\'s name, and keeps a completed download in the cache', async () => {
    const { address } = await serverProc(await musicDir());
    const cache = await tempDir();
    const out = join(await tempDir(), 'x.wav');
    const p = audiolabProc(['play', 'long.wav', '--server', address, '--sink', `wav:${out}`, '--realtime', '--cache', cache]);
    // the 2 MiB download takes milliseconds on loopback, the real-time playback 12 s: interrupt once
    // the cache's .part holds the whole song
    await fileAppears(`${out}.recording`);
    await partReaches(cache, 2 * 1024 * 1024);
    p.child.kill('SIGINT');
    expect((await p.exit).code).toBe(130);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.recording`)).toBe(false);
    const again = audiolabProc(['play', 'long.wav', '--server', address, '--sink', 'null', '--cache', cache]);
    expect((await again.exit).code).toBe(0);
    expect(again.stdout()).toContain('from cache (no network transfer)');
  });

  it('over a slow link: Ctrl-C keeps the partial download, and the next play resumes it', async () => {
    const { address } = await serverProc(await musicDir());
    const slow = await throttleProxy(Number(address.split(':')[1]), 400_000);
    const cache = await tempDir();
    const p = audiolabProc(['play', 'long.wav', '--server', slow.address, '--sink', 'null', '--cache', cache]);
    await partReaches(cache, 100_000);
    p.child.kill('SIGINT');
    expect((await p.exit).code).toBe(130);
    const again = audiolabProc(['play', 'long.wav', '--server', address, '--sink', 'null', '--cache', cache]);
    expect((await again.exit).code).toBe(0);
    expect(again.stdout()).toMatch(/resumed at [1-9]/);
    await slow.close();
  });

  it('in a terminal, an error clears the progress line first (it is not printed over it)', async () => {
    const dir = await musicDir();
    await writeFile(join(dir, 'long.wav'), bigWav(16 * 1024 * 1024, 9));
    const { proc: server, address } = await serverProc(dir);
    const slow = await throttleProxy(Number(address.split(':')[1]), 1_000_000);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI'));
    const cmd = `${process.execPath} ${join(ROOT, 'bin/audiolab.mjs')} play long.wav --server ${slow.address} --sink null --cache ${await tempDir()}`;
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/downloaded/.test(out) && server.child.exitCode === null && !server.child.killed) server.child.kill('SIGKILL');
    });
    const [code] = await once(child, 'close') as [number];
    expect(code).toBe(1);
    expect(out).toMatch(/downloaded/);
    // the progress line is erased (CR, erase line) right before the error
    expect(out).toMatch(/\r\x1b\[2Kaudiolab: error AUDIOLAB_ERR_/);
    await slow.close();
  });

  it('when the server is killed mid-play, exits 1 and leaves no wav: file', async () => {
    // more than the socket buffers between the server and the client hold, so the kill cuts the song short
    const dir = await musicDir();
    await writeFile(join(dir, 'long.wav'), bigWav(16 * 1024 * 1024, 9));
    const { proc: server, address } = await serverProc(dir);
    const slow = await throttleProxy(Number(address.split(":")[1]), 1_000_000);
    const out = join(await tempDir(), 'x.wav');
    const p = audiolabProc(['play', 'long.wav', '--server', slow.address, '--sink', `wav:${out}`, '--cache', await tempDir()]);
    await fileAppears(`${out}.recording`);
    server.child.kill('SIGKILL');
    expect((await p.exit).code).toBe(1);
    expect(p.stderr()).toMatch(/AUDIOLAB_ERR_PEER_GONE|AUDIOLAB_ERR_CONNECTION/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.recording`)).toBe(false);
    noCrash(p);
    await slow.close();
  });
});

describe('messages a user can act on', () => {
  it('say what happened and what to do, with the code, before connecting where they can', async () => {
    const { address } = await serverProc(await musicDir(), ['--max-upload', '0']);
    const missing = audiolabProc(['upload', '/no/such/song.wav', '--server', address]);
    expect((await missing.exit).code).toBe(1);
    expect(missing.stderr()).toMatch(/AUDIOLAB_ERR_FILE: There is no file \/no\/such\/song\.wav: check the path/);
    expect(missing.stderr()).not.toMatch(/ENOENT|INTERNAL/);

    const big = audiolabProc(['upload', join(MUSIC, 'ode-to-joy.wav'), '--server', address]);
    expect((await big.exit).code).toBe(1);
    expect(big.stderr()).toMatch(/AUDIOLAB_ERR_TOO_LARGE: 0\.67 MiB is more than this server's upload limit of 0\.00 MiB \(the server's --max-upload raises it\)/);

    const refused = audiolabProc(['list', '--server', '127.0.0.1:1']);
    expect((await refused.exit).code).toBe(1);
    expect(refused.stderr()).toMatch(/AUDIOLAB_ERR_CONNECTION: Cannot connect to 127\.0\.0\.1:1: nothing listens there\. Start a server \(audiolab server\)/);

    // a bad sink is a usage error, said before any connection is tried (the server here does not exist)
    const bogus = audiolabProc(['play', 'x.wav', '--sink', 'bogus', '--server', '127.0.0.1:1']);
    expect((await bogus.exit).code).toBe(2);
    expect(bogus.stderr()).toMatch(/AUDIOLAB_ERR_USAGE: Unknown sink "bogus"/);
    expect(bogus.stderr()).not.toContain('Cannot connect');
  });

  it('say the same thing for streaming to yourself, whatever the command', async () => {
    const dir = await musicDir();
    const { address } = await serverProc(dir);
    const scenario = join(await tempDir(), 'self.json');
    await writeFile(scenario, JSON.stringify({ name: 'self', steps: [{ do: 'listen', count: 0 }, { do: 'play-on', client: 'self', song: 'ode-to-joy.wav' }] }));
    const sc = audiolabProc(['scenario', scenario, '--server', address]);
    expect((await sc.exit).code).toBe(1);
    expect(sc.stdout()).toMatch(/self is you: name another client .*\(AUDIOLAB_ERR_NO_SUCH_CLIENT\)/);
    const scenario2 = join(await tempDir(), 'self2.json');
    await writeFile(scenario2, JSON.stringify({ name: 'self', steps: [{ do: 'send-to', client: 'self', file: join(dir, 'ode-to-joy.wav') }] }));
    const sc2 = audiolabProc(['scenario', scenario2, '--server', address]);
    expect((await sc2.exit).code).toBe(1);
    expect(sc2.stdout()).toMatch(/self is you: name another client .*\(AUDIOLAB_ERR_NO_SUCH_CLIENT\)/);
  });

  it('say why auto plays to null when there is no sound device', async () => {
    const { address } = await serverProc(await musicDir());
    const p = audiolabProc(['play', 'ode-to-joy.wav', '--server', address, '--sink', 'auto', '--cache', await tempDir()]);
    expect((await p.exit).code).toBe(0);
    if ((await probeSpeaker()).ok) expect(p.stderr()).not.toContain('No sound:');
    else expect(p.stderr()).toMatch(/No sound: .*; the audio goes to null\. Record it with --sink wav:FILE\./);
  });
});
