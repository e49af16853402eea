/**
 * A comparison as people read it: compare.html (self-contained, charts inline as SVG), compare.md
 * (charts as SVG files in charts/) and compare.json. Each chart overlays the two runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { esc, linesSvg } from '../report/svg.ts';
import type { Comparison, Measure } from './compare.ts';

interface Chart { id: string; title: string; svg: string }

function charts(c: Comparison): Chart[] {
  const out: Chart[] = [];
  c.connections.forEach((p, i) => {
    p.progress.forEach((d, k) => {
      const title = `Time–sequence progress, ${d.name}: ${c.a.label} and ${c.b.label} runs`;
      out.push({ id: `progress-${i}-${k}`, title, svg: linesSvg('compare-progress', title, [{ name: `${c.a.label} run`, points: d.a, dots: false }, { name: `${c.b.label} run`, points: d.b, dots: false }], 'seconds since the SYN', 'payload bytes sent (cumulative)') });
    });
    p.throughput.forEach((d, k) => {
      const title = `Throughput over time, ${d.name}: ${c.a.label} and ${c.b.label} runs`;
      out.push({ id: `throughput-${i}-${k}`, title, svg: linesSvg('compare-throughput', title, [{ name: `${c.a.label} run`, points: d.a, dots: false }, { name: `${c.b.label} run`, points: d.b, dots: false }], 'seconds since the SYN', 'Mbit/s') });
    });
  });
  return out;
}

const num = (v: number | null, unit: string): string => {
  if (v === null) return '—';
  if (unit === 'bytes') return v >= 1 << 20 ? `${(v / (1 << 20)).toFixed(2)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`;
  return `${Number.isInteger(v) ? v : v.toFixed(unit === 'ms' ? 2 : 1)}${unit === 'segments' || unit === 'stalls' ? '' : ` ${unit}`}`;
};
const ratio = (m: Measure): string => (m.ratio === null ? (m.a === 0 && (m.b ?? 0) > 0 ? 'new' : '—') : `${m.ratio.toFixed(2)}×`);

interface Table { head: string[]; rows: string[][] }

function measuresTable(c: Comparison, ms: Measure[]): Table {
  return { head: ['', `${c.a.label} run`, `${c.b.label} run`, `${c.b.label} / ${c.a.label}`], rows: ms.map((m) => [m.name, num(m.a, m.unit), num(m.b, m.unit), ratio(m)]) };
}

const htmlTable = (t: Table): string => `<table><thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((r) => `<tr>${r.map((v, i) => `<td${i === 0 ? ' class="name"' : ''}>${esc(v).replace(/^ +/, (s) => '&nbsp;'.repeat(s.length * 2))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
const mdCell = (v: string): string => v.replace(/\|/g, '\\|').replace(/^ +/, (s) => '&nbsp;'.repeat(s.length * 2));
const mdTable = (t: Table): string => [`| ${t.head.map(mdCell).join(' | ')} |`, `| ${t.head.map(() => '---').join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');

const intact = (v: boolean | null): string => (v === null ? 'unknown' : v ? 'intact' : 'NOT intact');

function sides(c: Comparison): string[] {
  return [c.a, c.b].map((s) => `${s.label} run: ${s.dir} (run ${s.runId}, profile ${s.profile}${s.impairments.length ? `: ${s.impairments.join('; ')}` : ''})`);
}

function renderHtml(c: Comparison, cs: Chart[]): string {
  const chart = (id: string): string => cs.find((x) => x.id === id)?.svg ?? '';
  const conns = c.connections.map((p, i) => `<section><h3>${esc(p.role)} (tcp.stream ${p.a} and ${p.b})</h3>
${p.directions.map((d) => `<h4>${esc(d.name)}</h4>${htmlTable(measuresTable(c, d.measures))}`).join('\n')}
<div class="charts">${p.progress.map((_, k) => chart(`progress-${i}-${k}`)).join('')}${p.throughput.map((_, k) => chart(`throughput-${i}-${k}`)).join('')}</div></section>`).join('\n');
  const transfers = c.transfers.map((t) => `<h4>${esc(t.key)}</h4>${htmlTable(measuresTable(c, t.measures))}<p class="muted">content: ${intact(t.intact.a)} on the ${esc(c.a.label)} run, ${intact(t.intact.b)} on the ${esc(c.b.label)} run</p>`).join('\n');
  const relays = c.relays.map((r) => `<h4>${esc(r.key)}</h4>${htmlTable(measuresTable(c, r.measures))}`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tcp-audio-lab comparison — ${esc(c.a.label)} and ${esc(c.b.label)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#111;line-height:1.45}
h2{border-bottom:2px solid #e5e7eb;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;margin:8px 0;font-size:13px;max-width:100%}
th,td{border:1px solid #d1d5db;padding:3px 8px;text-align:right}th{background:#f3f4f6}td.name{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #e5e7eb;border-radius:6px;max-width:100%;height:auto}
.muted{color:#555}li{margin:4px 0}
</style></head><body>
<h1>Two runs side by side</h1>
<p class="muted">${sides(c).map(esc).join('<br>')}</p>
<h2 id="differences">What differs</h2>
<ul>${c.differences.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>
${c.unmatched.length ? `<p class="muted">In one run only: ${c.unmatched.map(esc).join('; ')}</p>` : ''}
<h2 id="connections">Connections, by role</h2>
${conns}
<h2 id="transfers">Song transfers</h2>
${transfers || '<p>No transfers in both runs.</p>'}
<h2 id="relays">Relayed streams</h2>
${relays || '<p>No relayed streams in both runs.</p>'}
<p class="muted">Generated by tcp-audio-lab (audiolab compare). Matched by role from each run's lab.json, never by port. Schema: docs/compare.md.</p>
</body></html>
`;
}

function renderMarkdown(c: Comparison, cs: Chart[]): string {
  const lines = ['# Two runs side by side', '', ...sides(c).map((s) => `- ${s}`), '', '## What differs', '', ...c.differences.map((d) => `- ${d}`), ''];
  if (c.unmatched.length) lines.push(`In one run only: ${c.unmatched.join('; ')}`, '');
  lines.push('## Connections, by role', '');
  c.connections.forEach((p, i) => {
    lines.push(`### ${p.role} (tcp.stream ${p.a} and ${p.b})`, '');
    for (const d of p.directions) lines.push(`#### ${d.name}`, '', mdTable(measuresTable(c, d.measures)), '');
    for (const ch of cs.filter((x) => x.id.startsWith(`progress-${i}-`) || x.id.startsWith(`throughput-${i}-`))) lines.push(`![${ch.title}](charts/${ch.id}.svg)`, '');
  });
  lines.push('## Song transfers', '');
  for (const t of c.transfers) lines.push(`### ${t.key}`, '', mdTable(measuresTable(c, t.measures)), '', `content: ${intact(t.intact.a)} on the ${c.a.label} run, ${intact(t.intact.b)} on the ${c.b.label} run`, '');
  lines.push('## Relayed streams', '');
  for (const r of c.relays) lines.push(`### ${r.key}`, '', mdTable(measuresTable(c, r.measures)), '');
  return lines.join('\n');
}

/** Writes compare.html, compare.md (+ charts/*.svg) and compare.json into `dir`. */
export async function writeComparison(c: Comparison, dir: string): Promise<string[]> {
  const cs = charts(c);
  await mkdir(join(dir, 'charts'), { recursive: true });
  await Promise.all(cs.map((ch) => writeFile(join(dir, 'charts', `${ch.id}.svg`), ch.svg)));
  const files = ['compare.html', 'compare.md', 'compare.json'].map((f) => join(dir, f));
  await writeFile(files[0]!, renderHtml(c, cs));
  await writeFile(files[1]!, renderMarkdown(c, cs));
  await writeFile(files[2]!, JSON.stringify(c, null, 1) + '\n');
  return files;
}
