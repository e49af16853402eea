/** The `runs/` folder both lab runtimes write: one folder per run, and `runs/latest` pointing at the newest. */
import { rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A run id that sorts by time and is a valid folder name: 2026-11-25T07-04-46-568Z. */
export const newRunId = (): string => new Date().toISOString().replace(/[:.]/g, '-');

/** Points runs/latest at the run `runId` (a relative symlink, so the folder can move). */
export async function pointLatest(runsDir: string, runId: string): Promise<void> {
  const latest = join(runsDir, 'latest');
  await rm(latest, { force: true, recursive: true });
  await symlink(runId, latest);
}
