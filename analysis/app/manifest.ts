/** The lab's manifest (lab.json): which host is which, the run, the impairments. */
import { dirname, join } from 'node:path';

// not an ES import, which would evaluate every export of node:fs on the analyze path (docs/analysis.md, Speed)
const { existsSync, readFileSync } = process.getBuiltinModule('node:fs');

export interface LabManifest {
  runId?: string;
  runtime?: string;
  hosts?: Array<{ role: string; ip: string; mac?: string | null }>;
  impairments?: unknown;
  [k: string]: unknown;
}

/** Reads a manifest file (throws if it cannot be read or is not JSON). */
export function readManifest(path: string): LabManifest {
  return JSON.parse(readFileSync(path, 'utf8')) as LabManifest;
}

/** Reads lab.json next to the capture (the lab writes it there), if any. */
export function findManifest(capture: string): LabManifest | null {
  const p = join(dirname(capture), 'lab.json');
  if (!existsSync(p)) return null;
  try {
    return readManifest(p);
  } catch {
    return null;
  }
}

/** The manifest given (null: none), or when none was given, the one beside the capture. */
export function manifestFor(capture: string, given: LabManifest | null | undefined): LabManifest | null {
  return given === undefined ? findManifest(capture) : given;
}
