/**
 * The lab's images under fault, with testcontainers (its GenericContainer/Network API: Compose v2 is
 * absent here, and these tests need single containers started, stopped and paused at chosen
 * moments): the capture sidecar catches the first SYN of a connection made the moment it reports
 * healthy; a server container stopped mid-stream gives the client a coded error; a receiver paused
 * mid-relay stalls the sender with bounded memory in the server.
 *
 * Images: the ones the lab builds (tcp-audio-lab, tcp-audio-lab-capture), built here with the same
 * Dockerfiles and base image settings (scripts/docker-up.sh). Ryuk (testcontainers' reaper image)
 * cannot be pulled offline: containers are stopped by the tests themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bigWav, ROOT, tempDir, waitFor } from '../helpers.ts';
import { AudioLabClient } from '../../services/client/client.ts';
import { AudioLabError } from '../../services/protocol/errors.ts';
import { analyze } from '../../analysis/analyze.ts';
import { localDockerEnv } from '../../lab/docker.ts';

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
const { GenericContainer, Network, Wait } = await import('testcontainers');
type Started = Awaited<ReturnType<InstanceType<typeof GenericContainer>['start']>>;
type StartedNet = Awaited<ReturnType<InstanceType<typeof Network>['start']>>;

const APP = 'tcp-audio-lab:latest';
const CAPTURE = 'tcp-audio-lab-capture:latest';
const never = { shouldPull: () => false };

function dockerEnv(): Record<string, string> {
  if (!existsSync(join(ROOT, '.cache/docker.env'))) throw new Error('no .cache/docker.env: run bash scripts/docker-up.sh (scripts/test.sh does)');
  return localDockerEnv();
}

let net: StartedNet;
const started: Started[] = [];

async function server(): Promise<Started> {
  const c = await new GenericContainer(APP).withPullPolicy(never).withNetwork(net).withCommand(['server', '--host', '0.0.0.0', '--port', '5050', '--music', '/app/music'])
    .withWaitStrategy(Wait.forLogMessage(/server\.listen|listening/)).withStartupTimeout(60_000).start();
  started.push(c);
  return c;
}

const ip = (c: Started): string => c.getIpAddress(net.getName());

beforeAll(async () => {
  const env = dockerEnv();
  // the same images the lab runs (cached layers make this quick after the lab test)
  execFileSync('docker', ['build', '-q', '-t', APP, '--build-arg', `BASE_IMAGE=${env.BASE_IMAGE ?? 'node:24-bookworm-slim'}`, '.'], { cwd: ROOT, stdio: 'ignore' });
  execFileSync('docker', ['build', '-q', '-t', CAPTURE, '--build-arg', `BASE_IMAGE=${env.CAPTURE_BASE_IMAGE ?? 'debian:bookworm-slim'}`, 'capture'], { cwd: ROOT, stdio: 'ignore' });
  net = await new Network().start();
}, 600_000);

afterAll(async () => {
  for (const c of started.reverse()) await c.stop({ timeout: 2 }).catch(() => {});
  await net?.stop().catch(() => {});
});

describe('lab images under fault (testcontainers)', () => {
  it('the capture sidecar catches the first SYN of a connection made the moment it reports healthy', async () => {
    const srv = await server();
    const runs = await tempDir('audiolab-tc-runs-');
    await chmod(runs, 0o777);
    const cap = await new GenericContainer(CAPTURE).withPullPolicy(never).withNetworkMode(`container:${srv.getId()}`)
      .withAddedCapabilities('NET_ADMIN', 'NET_RAW').withEnvironment({ RUN_ID: 'tc', HOST_UID: String(process.getuid!()), HOST_GID: String(process.getgid!()) })
      .withBindMounts([{ source: runs, target: '/runs' }]).withWaitStrategy(Wait.forHealthCheck()).withStartupTimeout(60_000).start();
    started.push(cap);
    // healthy: connect at once, from the host to the server's address on the lab network
    const client = new AudioLabClient({ host: ip(srv), port: 5050, name: 'first' });
    await client.connect();
    await client.list();
    await client.close();
    await writeFile(join(runs, 'tc', 'client-a.done'), '');
    await writeFile(join(runs, 'tc', 'client-b.done'), '');
    for (let i = 0; i < 100 && !existsSync(join(runs, 'tc', 'capture.done')); i++) await new Promise((r) => setTimeout(r, 100));
    const r = analyze(join(runs, 'tc', 'capture.pcap'));
    expect(r.connections).toHaveLength(1);
    const c = r.connections[0]!;
    expect(c.firstFrame).toBe(1); // nothing of the connection was missed: its SYN is the first packet
    expect(c.history.startsWith('S')).toBe(true);
    expect(c.handshake.complete).toBe(true);
    expect(JSON.parse(await readFile(join(runs, 'tc', 'hosts', 'server.json'), 'utf8')).offloads).toBe('off');
  }, 180_000);

  it('a server container stopped mid-stream gives the client a coded error', async () => {
    const srv = await server();
    const client = new AudioLabClient({ host: ip(srv), port: 5050, name: 'victim' });
    await client.connect();
    const song = join(await tempDir(), 'long.wav');
    await writeFile(song, bigWav(24 * 1024 * 1024));
    await client.upload(song, 'long.wav');
    const stream = await client.play('long.wav');
    // read a little, then stop reading: the server is mid-stream, held by TCP back-pressure
    const got = await new Promise<number>((resolve) => {
      let n = 0;
      const onData = (c: Buffer): void => {
        n += c.length;
        if (n > 256 * 1024) {
          stream.pause();
          stream.off('data', onData);
          resolve(n);
        }
      };
      stream.on('data', onData);
    });
    expect(got).toBeLessThan(24 * 1024 * 1024);
    const failed = new Promise<unknown>((resolve) => { stream.on('error', resolve); client.on('close', resolve); });
    // docker stop: SIGTERM (the server shuts down gracefully), SIGKILL after 5 s
    const stopped = new Promise<void>((resolve, reject) => execFile('docker', ['stop', '-t', '5', srv.getId()], (e) => (e ? reject(e) : resolve())));
    stream.resume();
    await stopped;
    const err = await failed;
    expect(err).toBeInstanceOf(AudioLabError);
    expect((err as AudioLabError).code).toMatch(/^AUDIOLAB_ERR_(SHUTTING_DOWN|PEER_GONE|CONNECTION)$/);
    expect((err as AudioLabError).message.length).toBeGreaterThan(5);
  }, 180_000);

  it('a receiver paused mid-relay stalls the sender, and the server\'s memory stays bounded', async () => {
    const srv = await server();
    const receiver = await new GenericContainer(APP).withPullPolicy(never).withNetwork(net)
      .withCommand(['listen', '--server', `${ip(srv)}:5050`, '--name', 'sleepy', '--count', '1', '--sink', 'null', '--realtime'])
      .withWaitStrategy(Wait.forLogMessage(/listening|waiting/i)).withStartupTimeout(60_000).start();
    started.push(receiver);
    const sender = new AudioLabClient({ host: ip(srv), port: 5050, name: 'sender' });
    await sender.connect();
    for (let i = 0; i < 100 && !sender.clients.some((c) => c.name === 'sleepy' && c.listening); i++) await new Promise((r) => setTimeout(r, 100));
    const size = 48 * 1024 * 1024;
    const song = join(await tempDir(), 'big.wav');
    await writeFile(song, bigWav(size, 7));
    const mem = (): number => {
      const s = execFileSync('docker', ['stats', '--no-stream', '--format', '{{.MemUsage}}', srv.getId()], { encoding: 'utf8' }).split('/')[0]!.trim();
      const v = parseFloat(s);
      return s.endsWith('GiB') ? v * 1024 : s.endsWith('MiB') ? v : s.endsWith('KiB') ? v / 1024 : v / 2 ** 20;
    };
    const before = mem();
    let sent = 0;
    const done = sender.sendTo('sleepy', song, (n) => { sent = n; });
    // the relay is flowing (the receiver plays at the song's pace), then the receiver freezes mid-relay
    expect(await waitFor(() => sent > 1024 * 1024, 30_000, 10)).toBe(true);
    execFileSync('docker', ['pause', receiver.getId()]);
    // the sender stalls: nothing more goes out for half a second (every window on the way is full) …
    let last = -1;
    expect(await waitFor(() => {
      const stalled = sent === last;
      last = sent;
      return stalled;
    }, 30_000, 500)).toBe(true);
    const stalledAt = sent;
    // … and stays stalled for as long as the receiver sleeps
    await new Promise((r) => setTimeout(r, 2000));
    // stalled: nothing more went out while the receiver slept, far short of the file
    expect(sent).toBe(stalledAt);
    expect(sent).toBeLessThan(size / 2);
    const during = mem();
    expect(during - before).toBeLessThan(32); // MiB: the server buffers a bounded amount, not the song
    execFileSync('docker', ['unpause', receiver.getId()]);
    // awake, it reads again (at the song's pace), and the relay moves on
    expect(await waitFor(() => sent > stalledAt, 30_000)).toBe(true);
    await sender.close();
    await done.catch(() => {});
  }, 240_000);
});
