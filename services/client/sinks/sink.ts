/** Where played audio goes: a sound device, a WAV recording, or nowhere. */
import type { AudioFormat } from '../../protocol/index.ts';
import type { Underrun } from './clock.ts';

export interface SinkStats {
  bytes: number;
  underruns: Underrun[];
}

export interface AudioSink {
  readonly description: string;
  /** Plays at the song's pace (a device, or --realtime): its streams are asked for at that pace. */
  readonly realtime: boolean;
  open(format: AudioFormat): Promise<void>;
  /** Resolves when the sink can take more (real-time sinks pace here). */
  write(pcm: Buffer): Promise<void>;
  /** Plays out what is queued and releases the device or file; a recording appears under its name. */
  close(): Promise<void>;
  /** The stream failed or was stopped: releases the device or file at once, and keeps nothing partial. */
  abort(): Promise<void>;
  stats(): SinkStats;
}

