/** `audiolab compare RUN_A RUN_B`: two lab runs side by side, matched by role, the differences in words. */
import { basename, dirname, join, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { compareRuns, loadRun } from '../../analysis/compare/compare.ts';
import { writeComparison } from '../../analysis/compare/render.ts';
import { str, type Command } from '../command.ts';

/** A run's own name, also when it is named through the runs/latest link. */
const runName = (dir: string): string => basename(realpathSync(dir));

export const compareCommand: Command = {
  name: 'compare',
  args: 'RUN_A RUN_B',
  arity: [2, 2],
  details: 'Matches the two runs\' connections by role (client-a↔server, client-b↔server: from each run\'s lab.json, never by port) and their song transfers by kind, song and client, and puts side by side: throughput, RTT (median, p95), retransmissions by cause, duplicate ACKs, zero windows, window, transfer durations and relay chunk delay, with overlaid charts and the differences in words.\nWrites compare.html (self-contained), compare.md (+ charts/*.svg) and compare.json (docs/compare.md).\nRuns whose hosts or scenario differ are refused with AUDIOLAB_ERR_MISMATCH (exit 1); a folder without report.json or capture.pcap gives AUDIOLAB_ERR_FILE.',
  options: {
    out: { type: 'string', short: 'o', help: 'Folder for the comparison', placeholder: 'DIR', defaultText: 'compare-A-vs-B beside RUN_A' },
  },
  examples: ['audiolab compare runs/2026-12-02T10-00-00-000Z runs/latest', 'npm run lab -- --profile clean,lossy   (runs both and compares them)'],
  async run(ctx) {
    const [da, db] = ctx.positionals as [string, string];
    const [a, b] = await Promise.all([loadRun(da), loadRun(db)]);
    const c = compareRuns(a, b, [da, db]);
    const out = str(ctx, 'out') ?? join(dirname(resolve(da)), `compare-${runName(da)}-vs-${runName(db)}`);
    const files = await writeComparison(c, out);
    process.stdout.write([`${c.a.label} run (${da}) against ${c.b.label} run (${db}):`, ...c.differences.map((d) => `  - ${d}`), ...files.map((f) => `  ${f}`)].join('\n') + '\n');
    return 0;
  },
};
