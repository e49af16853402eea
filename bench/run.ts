#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark, prints our figures beside the references measured in the
 * same run, and (with --write) records them in docs/benchmarks.md.
 */
import { parseArgs } from 'node:util';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { machine, ROOT, table, type Row } from './lib.ts';
import { streamingBench } from './streaming.ts';
import { analysisBench } from './analysis.ts';
import { labBench } from './lab.ts';
import { fanoutBench, fanoutTable, type LevelResult } from './fanout.ts';

const { values } = parseArgs({ options: {
  help: { type: 'boolean', short: 'h' }, quick: { type: 'boolean' }, write: { type: 'boolean' }, only: { type: 'string' }, levels: { type: 'string' }, 'cpu-prof': { type: 'string' },
} });
if (values.help) {
  console.log(`Usage: npm run bench -- [--quick] [--write] [--only streaming|analysis|lab|fanout] [--levels N,N…] [--cpu-prof DIR]

Runs the benchmarks in bench/ and prints each figure beside its reference (iperf3, bare TCP, tshark,
tcptrace…) measured in the same run, with the ratio ours/reference.
  --quick   smaller inputs (a smoke run)
  --write   record the results in docs/benchmarks.md (with --only: that group's section) and
            bench/results/latest.json (with --only: GROUP.json)
  --only    run one group: streaming | analysis | lab | fanout
  --levels  the fan-out bench's listener counts (default 400,800,1200,1600,2000,2400,3200,4800,6400; it stops
            raising them once both servers have stalled)
  --cpu-prof  the fan-out bench runs our server under node --cpu-prof, profiles written to DIR
            (open them in Chrome DevTools or speedscope)`);
  process.exit(0);
}

const groups: Record<string, () => Promise<{ rows: Row[]; notes: string[] }>> = {
  streaming: () => streamingBench({ quick: values.quick ?? false }),
  analysis: () => analysisBench({ quick: values.quick ?? false }),
  lab: () => labBench(),
  fanout: async () => {
    const r = await fanoutBench({ quick: values.quick ?? false, ...(values.levels ? { levels: values.levels.split(',').map(Number) } : {}), ...(values['cpu-prof'] ? { cpuProf: values['cpu-prof'] } : {}) });
    fanout = r.levels;
    return r;
  },
};
let fanout: LevelResult[] = [];
const selected = values.only ? [values.only] : Object.keys(groups);
const rows: Row[] = [];
const notes: string[] = [];
for (const g of selected) {
  const run = groups[g];
  if (!run) {
    console.error(`unknown group ${g}; groups: ${Object.keys(groups).join(', ')}`);
    process.exit(2);
  }
  console.error(`== ${g}`);
  const r = await run();
  rows.push(...r.rows);
  notes.push(...r.notes);
}
if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
const date = new Date().toISOString();
const report = `Run ${date} on ${machine()}${values.quick ? ' (--quick)' : ''}.\n\n${table(rows)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n${fanout.length ? `\nFan-out, per level and server (CPU: % of one core over the window; RSS: peak):\n\n${fanoutTable(fanout)}\n` : ''}`;
console.log(report);
if (values.write) {
  await mkdir(join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(join(ROOT, `bench/results/${values.only ?? 'latest'}.json`), JSON.stringify({ date, machine: machine(), rows, notes, ...(fanout.length ? { fanout } : {}) }, null, 2));
  const path = join(ROOT, 'docs/benchmarks.md');
  const doc = await readFile(path, 'utf8').catch(() => `# Benchmarks\n\nMeasured with \`npm run bench -- --write\`. Each figure stands beside its reference, measured in the same run on the same machine; the ratio is ours / reference (for times lower is better, for throughput higher is better). Benchmarks never run as timed assertions in the tests: these machines are shared and noisy.\n`);
  const heading = values.only ? `## ${values.only[0]!.toUpperCase()}${values.only.slice(1)}, latest (\`npm run bench -- --only ${values.only}\`)` : '## Latest run';
  await writeFile(path, replaceSection(doc, heading, report));
  console.error(`wrote ${heading.slice(3)} in docs/benchmarks.md`);
}

/** The doc with the section under `heading` (up to the next level-2 heading) replaced by `body`, or added at the end. */
function replaceSection(doc: string, heading: string, body: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  const section = `\n${heading}\n\n${body}`;
  if (start < 0) return `${doc.trimEnd()}\n${section}`;
  const next = doc.indexOf('\n## ', start + heading.length + 2);
  return doc.slice(0, start) + section + (next < 0 ? '' : `\n${doc.slice(next + 1)}`);
}
