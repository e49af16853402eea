/**
 * Plays through the `speaker` module (ALSA on Linux, via libout123).
 *
 * `speaker` aborts the whole process with an uncatchable ALSA assertion when there is no default
 * sound device (every container, every headless machine). So we never load it in this process
 * until a child process has loaded it, opened the device and played a few samples of silence.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { AudioLabError } from '../../protocol/errors.ts';
import type { AudioFormat } from '../../protocol/index.ts';
import { PlaybackClock } from './clock.ts';
import type { AudioSink, SinkStats } from './sink.ts';
import { byteRateOf } from '../../common/wav.ts';

const require = createRequire(import.meta.url);

function speakerPath(): string | null {
  try {
    return require.resolve('speaker');
  } catch {
    return null;
  }
}

const PROBE = `
const Speaker = require(process.argv[1]);
const s = new Speaker({ channels: 1, bitDepth: 16, sampleRate: 8000 });
s.on('error', () => process.exit(3));
s.on('close', () => process.exit(0));
s.end(Buffer.alloc(1600));
`;

let probed: Promise<{ ok: boolean; reason: string }> | undefined;

/** Whether a sound device can be opened through `speaker` (asked once, of a child process). */
export function probeSpeaker(timeoutMs = 5000): Promise<{ ok: boolean; reason: string }> {
  probed ??= new Promise((resolve) => {
    const path = speakerPath();
    if (!path) return resolve({ ok: false, reason: 'the optional speaker module is not installed (needs ALSA headers to build)' });
    const child = spawn(process.execPath, ['-e', PROBE, path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
    let err = '';
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    child.on('exit', (code, signal) => {
      if (code === 0) resolve({ ok: true, reason: 'sound device opened' });
      else resolve({ ok: false, reason: `no usable sound device (${signal ?? `exit ${code}`}${err ? `: ${err.trim().split('\n').pop()}` : ''})` });
    });
    child.on('error', (e) => resolve({ ok: false, reason: e.message }));
  });
  return probed;
}

export class SpeakerSink implements AudioSink {
  readonly realtime = true;
  readonly description = 'speaker';
  private speaker: Writable | undefined;
  private clock: PlaybackClock | undefined;
  private bytes = 0;

  async open(format: AudioFormat): Promise<void> {
    const probe = await probeSpeaker();
    if (!probe.ok) throw new AudioLabError('AUDIOLAB_ERR_SINK', `Cannot play through speaker: ${probe.reason}`);
    const Speaker = require(speakerPath()!) as new (o: object) => Writable;
    this.speaker = new Speaker({
      channels: format.channels,
      bitDepth: format.bitsPerSample,
      sampleRate: format.sampleRate,
      signed: format.bitsPerSample !== 8,
      float: format.encoding === 'float',
    });
    this.speaker.on('error', () => { /* reported on write/close */ });
    // The device paces playback; the clock only notices when audio arrives after it ran dry.
    this.clock = new PlaybackClock(byteRateOf(format), { leadMs: 1000 });
  }

  async write(pcm: Buffer): Promise<void> {
    const s = this.speaker;
    if (!s) throw new AudioLabError('AUDIOLAB_ERR_SINK', 'Speaker not open');
    this.bytes += pcm.length;
    if (!s.write(pcm)) await once(s, 'drain');
    await this.clock?.pace(pcm.length);
  }

  async close(): Promise<void> {
    const s = this.speaker;
    if (!s) return;
    this.speaker = undefined;
    const closed = once(s, 'close');
    s.end();
    await closed;
  }

  /** Stops at once: what the device has queued is dropped. */
  async abort(): Promise<void> {
    const s = this.speaker;
    if (!s) return;
    this.speaker = undefined;
    s.destroy();
  }

  stats(): SinkStats {
    return { bytes: this.bytes, underruns: this.clock?.underruns ?? [] };
  }
}
