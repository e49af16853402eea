/**
 * A tiny deterministic synthesiser: the project makes its own music (no copyrighted material).
 * Same inputs, same bytes, on every machine.
 */
import { buildWavHeader } from '../services/common/wav.ts';
import type { AudioFormat } from '../services/protocol/index.ts';

export interface SongSpec {
  name: string;
  format: AudioFormat;
  extensible?: boolean;
  /** Notes as [midi note, beats]; 0 is a rest. */
  notes: ReadonlyArray<readonly [number, number]>;
  bpm: number;
  /** Harmonic amplitudes of the timbre. */
  harmonics: readonly number[];
}

const freq = (midi: number): number => 440 * 2 ** ((midi - 69) / 12);

/** Renders a song to float samples in [-1, 1], interleaved. */
export function render(spec: SongSpec): Float64Array {
  const { sampleRate, channels } = spec.format;
  const beat = 60 / spec.bpm;
  const total = Math.round(spec.notes.reduce((s, [, b]) => s + b, 0) * beat * sampleRate);
  const out = new Float64Array(total * channels);
  let start = 0;
  const norm = spec.harmonics.reduce((a, b) => a + b, 0);
  for (const [note, beats] of spec.notes) {
    const len = Math.round(beats * beat * sampleRate);
    if (note > 0) {
      const f = freq(note);
      for (let i = 0; i < len && start + i < total; i++) {
        const t = i / sampleRate;
        const env = Math.min(1, i / (0.01 * sampleRate)) * Math.exp(-3 * t / (beats * beat));
        let v = 0;
        for (let h = 0; h < spec.harmonics.length; h++) v += spec.harmonics[h]! * Math.sin(2 * Math.PI * f * (h + 1) * t);
        v = (0.6 * env * v) / norm;
        for (let c = 0; c < channels; c++) {
          const pan = channels === 2 ? (c === 0 ? 0.5 + 0.3 * Math.sin(note) : 0.5 - 0.3 * Math.sin(note)) : 1;
          out[(start + i) * channels + c] = v * pan * (channels === 2 ? 2 : 1) * 0.5;
        }
      }
    }
    start += len;
  }
  return out;
}

/** Quantises samples to the format's PCM encoding (little-endian). */
export function encodePcm(samples: Float64Array, format: AudioFormat): Buffer {
  const bytes = format.bitsPerSample / 8;
  const buf = Buffer.alloc(samples.length * bytes);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    const o = i * bytes;
    if (format.encoding === 'float') {
      if (bytes === 4) buf.writeFloatLE(s, o);
      else buf.writeDoubleLE(s, o);
    } else if (bytes === 1) buf.writeUInt8(Math.round(s * 127) + 128, o);
    else if (bytes === 2) buf.writeInt16LE(Math.round(s * 32767), o);
    else if (bytes === 3) buf.writeIntLE(Math.round(s * 8388607), o, 3);
    else buf.writeInt32LE(Math.round(s * 2147483647), o);
  }
  return buf;
}

export function renderWav(spec: SongSpec): Buffer {
  const pcm = encodePcm(render(spec), spec.format);
  return Buffer.concat([buildWavHeader(spec.format, pcm.length, spec.extensible ?? false), pcm]);
}

const pcm = (sampleRate: number, channels: number, bitsPerSample: number): AudioFormat => ({ sampleRate, channels, bitsPerSample, encoding: 'pcm' });

/** The songs shipped in music/. */
export const SONGS: readonly SongSpec[] = [
  { name: 'ode-to-joy.wav', format: pcm(44100, 2, 16), bpm: 240, harmonics: [1, 0.5, 0.25, 0.12],
    notes: [[64, 1], [64, 1], [65, 1], [67, 1], [67, 1], [65, 1], [64, 1], [62, 1], [60, 1], [60, 1], [62, 1], [64, 1], [64, 1.5], [62, 0.5], [62, 2]] },
  { name: 'frere-jacques-8bit.wav', format: pcm(22050, 1, 8), bpm: 200, harmonics: [1, 0, 0.33, 0, 0.2],
    notes: [[60, 1], [62, 1], [64, 1], [60, 1], [60, 1], [62, 1], [64, 1], [60, 1], [64, 1], [65, 1], [67, 2], [64, 1], [65, 1], [67, 2]] },
  { name: 'scale-24bit-48k.wav', format: pcm(48000, 2, 24), extensible: true, bpm: 300, harmonics: [1, 0.2],
    notes: [[60, 1], [62, 1], [64, 1], [65, 1], [67, 1], [69, 1], [71, 1], [72, 3]] },
  { name: 'chimes-32bit-16k.wav', format: pcm(16000, 1, 32), bpm: 120, harmonics: [1, 0, 0, 0.4, 0, 0.2],
    notes: [[76, 1], [72, 1], [74, 1], [67, 2], [0, 0.5], [67, 1], [74, 1], [76, 1], [72, 2]] },
];
