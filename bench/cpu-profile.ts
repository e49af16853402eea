#!/usr/bin/env node
/**
 * Where a process spent its CPU, from a V8 .cpuprofile (`node --cpu-prof`, or the fan-out bench's
 * --cpu-prof DIR): self time per function, the busiest first, with the share of all samples.
 * Usage: bin/node24.mjs bench/cpu-profile.ts FILE.cpuprofile [TOP]
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { ROOT } from './lib.ts';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const [file, topArg] = process.argv.slice(2);
if (!file || file === '--help' || file === '-h') {
  console.log('Usage: bin/node24.mjs bench/cpu-profile.ts FILE.cpuprofile [TOP]\nPrints self time per function from a V8 CPU profile, the busiest first.');
  process.exit(file ? 0 : 2);
}
const p = JSON.parse(await readFile(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  const f = byId.get(id)!.callFrame;
  const where = f.url ? `${relative(ROOT, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
  const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
  self.set(key, (self.get(key) ?? 0) + dt);
  if (f.functionName !== '(idle)') total += dt;
});
self.delete('(idle)');
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25));
console.log(`${(total / 1e6).toFixed(1)} s busy (idle left out); self time:`);
for (const [k, us] of top) console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
