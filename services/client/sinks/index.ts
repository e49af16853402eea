/** Choosing a sink from a command-line word: auto | speaker | null | wav:FILE (add +rt for real time). */
import { AudioLabError } from '../../protocol/errors.ts';
import { NullSink } from './null.ts';
import { assertFolder, RecorderSink } from './recorder.ts';
import { probeSpeaker, SpeakerSink } from './speaker.ts';
import type { AudioSink } from './sink.ts';
import type { Underrun } from './clock.ts';

export type { AudioSink, SinkStats } from './sink.ts';
export { NullSink, RecorderSink, SpeakerSink, probeSpeaker };

export const SINK_HELP = 'auto | speaker | null | wav:FILE  (auto: speaker if a sound device works, else null)';

/** A sink from its word. A `wav:` file's folder must exist unless `createDirs` (a scenario's recording folders). `auto` without a sound device tells `onFallback` why. */
export async function createSink(spec: string, options: { realtime?: boolean; onUnderrun?: (u: Underrun) => void; createDirs?: boolean; onFallback?: (reason: string) => void } = {}): Promise<AudioSink> {
  const realtime = options.realtime ?? false;
  const onUnderrun = options.onUnderrun ? { onUnderrun: options.onUnderrun } : {};
  if (spec === 'speaker') return new SpeakerSink();
  if (spec === 'null') return new NullSink({ realtime, ...onUnderrun });
  if (spec.startsWith('wav:') && spec.length > 4) {
    const path = spec.slice(4);
    if (!options.createDirs) await assertFolder(path);
    return new RecorderSink(path, { realtime, createDirs: options.createDirs ?? false, ...onUnderrun });
  }
  if (spec === 'auto') {
    const probe = await probeSpeaker();
    if (probe.ok) return new SpeakerSink();
    options.onFallback?.(probe.reason);
    return new NullSink({ realtime, ...onUnderrun });
  }
  throw new AudioLabError('AUDIOLAB_ERR_USAGE', `Unknown sink ${JSON.stringify(spec)} (want ${SINK_HELP})`);
}
