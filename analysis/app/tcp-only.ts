/**
 * The TCP analysis alone, in the shape of the full result (`app` empty): what `audiolab analyze
 * --tcp-only` runs. A module of its own so that it does not load the protocol decoder and
 * node:crypto, and the tracker runs with no hooks (nothing allocated per packet for the app layer).
 */
import { analyze, type AnalyzeOptions } from '../analyze.ts';
import type { FullAnalysis } from './index.ts';
import { manifestFor, type LabManifest } from './manifest.ts';

export function analyzeTcpOnly(path: string, options: Pick<AnalyzeOptions, 'onProgress'> & { manifest?: LabManifest | null } = {}): FullAnalysis {
  const manifest = manifestFor(path, options.manifest);
  const result = analyze(path, options.onProgress ? { onProgress: options.onProgress } : {});
  return {
    ...result,
    manifest,
    app: { connections: [], clients: [], messageCounts: {}, timeline: [], streams: [], plays: [], relays: [], protocolErrors: [], undecoded: [] },
  };
}
