/** `audiolab analyze CAPTURE`: follow every TCP connection of a capture and write the JSON analysis. */
import type { AnalysisResult } from '../../analysis/analyze.ts';
import type { FullAnalysis } from '../../analysis/app/index.ts';
import { readManifest, type LabManifest } from '../../analysis/app/manifest.ts';
import { terminalSummary } from '../../analysis/report/findings.ts';
import { AudioLabError } from '../../services/protocol/errors.ts';
import { str, type Command } from '../command.ts';
import { bar, fmtBytes, fmtMs, ProgressLine } from '../ui.ts';
import { writeJsonFile } from '../json-file.ts';

/** Connections listed on the terminal; the JSON and the report have them all. */
const LISTED = 20;

function summary(r: AnalysisResult): string {
  const lines = [`${r.capture.file}: ${r.capture.format}, ${r.capture.packets} packets (${r.capture.tcpPackets} TCP), ${fmtMs(r.capture.duration * 1000)}, ${r.connections.length} TCP connection(s)${r.capture.partial ? ' — PARTIAL: the file is truncated' : ''}`];
  for (const c of r.connections.slice(0, LISTED)) {
    const f = (d: typeof c.clientToServer): string => {
      const flagged = Object.entries(d.flags).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
      return `${d.packets} pkts, ${fmtBytes(d.payloadBytes)}${flagged ? `; ${flagged}` : ''}`;
    };
    lines.push(`  #${c.index} ${c.client.ip}:${c.client.port} → ${c.server.ip}:${c.server.port}  ${c.state} ${c.history}  iRTT ${c.handshake.initialRttMs === null ? '—' : `${c.handshake.initialRttMs.toFixed(3)} ms`}  MSS ${c.handshake.mss.client ?? '—'}/${c.handshake.mss.server ?? '—'}`);
    lines.push(`      client→server: ${f(c.clientToServer)}`);
    lines.push(`      server→client: ${f(c.serverToClient)}`);
  }
  const more = r.connections.length - LISTED;
  if (more > 0) lines.push(`  … and ${more} more connection(s): all of them are in --json and --out`);
  const undecoded = Object.entries(r.capture.undecoded);
  if (undecoded.length > 0) lines.push(`  not decoded (no IP found inside): ${undecoded.map(([what, n]) => `${n} × ${what}`).join(', ')}`);
  return lines.join('\n');
}

/**
 * Writes the JSON to FILE or to stdout (-): compact for files and pipes (smaller and quicker to
 * write; `jq .` shows it indented), indented when a person reads it on a terminal.
 */
function writeJson(target: string, doc: object): void {
  if (target === '-') process.stdout.write((process.stdout.isTTY ? JSON.stringify(doc, null, 1) : JSON.stringify(doc)) + '\n');
  else writeJsonFile(target, doc);
}

export const analyzeCommand: Command = {
  name: 'analyze',
  args: 'CAPTURE',
  arity: [1, 1],
  details: 'Also decodes the audiolab protocol from the reassembled TCP payload: clients, message timeline, streams (with sha256 integrity), plays and relays.\nWith --out DIR writes report.html (self-contained, SVG charts), report.md (+ charts/*.svg) and report.json (schema: docs/report-schema.md); --json FILE (or -) writes the JSON alone. A lab.json beside the capture (or --manifest) names the hosts.\nExit 1 with a coded error (and the byte offset) for unreadable or corrupt captures; a truncated capture is analysed as far as it goes and marked partial (exit 0).',
  options: {
    out: { type: 'string', short: 'o', help: 'Write report.html, report.md, report.json and charts/ into this folder', placeholder: 'DIR' },
    json: { type: 'string', help: 'Write the JSON to FILE, or - for stdout (compact; indented on a terminal)', placeholder: 'FILE|-' },
    manifest: { type: 'string', help: 'The lab manifest (default: lab.json beside the capture, if any)', placeholder: 'FILE' },
    'tcp-only': { type: 'boolean', help: 'Only the TCP analysis: do not decode the audiolab protocol (faster on captures of other traffic)' },
    annotate: { type: 'string', help: 'Also write the capture as pcapng with a comment on every frame that starts one of our messages or carries a TCP analysis flag (plain Wireshark: frame.comment contains "PLAY")', placeholder: 'OUT.pcapng' },
  },
  examples: ['audiolab analyze runs/latest/capture.pcap --out runs/latest', 'audiolab analyze lab.pcapng --json - | jq ".app.relays"'],
  exitOnReturn: true,
  async run(ctx) {
    const file = ctx.positionals[0]!;
    const line = new ProgressLine();
    const t0 = performance.now();
    const mf = str(ctx, 'manifest');
    let manifest: LabManifest | null | undefined;
    if (mf) {
      try {
        manifest = readManifest(mf);
      } catch (err) {
        throw new AudioLabError('AUDIOLAB_ERR_USAGE', `cannot read the manifest ${mf}: ${(err as Error).message}`);
      }
    }
    let result: FullAnalysis;
    try {
      // a pipe or standard input has no known size: its packets are counted instead
      const onProgress = line.enabled ? (n: number, total: number, packets: number): void => line.update(total > 0
        ? `analysing ${file} ${bar(n / total)} ${fmtBytes(n)}/${fmtBytes(total)}`
        : `analysing ${file === '-' ? 'standard input' : file}: ${packets} packets, ${fmtBytes(n)} read`) : undefined;
      // --tcp-only loads only the TCP analysis (not the protocol decoder and its modules)
      const annotateTo = str(ctx, 'annotate');
      if (annotateTo && ctx.values['tcp-only'] === true) throw new AudioLabError('AUDIOLAB_ERR_USAGE', '--annotate needs the protocol decoding: leave out --tcp-only');
      if (annotateTo && file === '-') throw new AudioLabError('AUDIOLAB_ERR_USAGE', '--annotate reads the capture twice: name a file, not standard input');
      const annotations = annotateTo ? new Map<number, string[]>() : undefined;
      result = ctx.values['tcp-only'] === true
        ? (await import('../../analysis/app/tcp-only.ts')).analyzeTcpOnly(file, { manifest, onProgress })
        : (await import('../../analysis/app/index.ts')).analyzeWithApp(file, { manifest, onProgress, ...(annotations ? { annotations } : {}) });
      if (annotateTo && annotations) {
        const n = (await import('../../lab/annotate.ts')).writeAnnotatedCapture(file, annotateTo, annotations);
        process.stderr.write(`annotated capture written: ${annotateTo} (${n} comments on ${annotations.size} frames)\n`);
      }
    } catch (err) {
      line.done();
      if (err instanceof AudioLabError && err.context.partialResult) {
        process.stderr.write(`audiolab: the capture is corrupt after ${String((err.context.partialResult as AnalysisResult).connections.length)} connection(s) were read; writing the partial TCP result\n`);
        const partial = err.context.partialResult as AnalysisResult;
        const target = str(ctx, 'json');
        if (target) writeJson(target, partial);
        else process.stdout.write(summary(partial) + '\n');
      }
      throw err;
    }
    line.done();
    process.stderr.write(`analysed in ${fmtMs(performance.now() - t0)}\n`);
    await emit(result);
    return 0;

    async function emit(r: FullAnalysis): Promise<void> {
      const out = str(ctx, 'out');
      const target = str(ctx, 'json');
      if (out) {
        const t1 = performance.now();
        // the HTML/SVG rendering loads only when a report is asked for
        const { writeReport } = await import('../../analysis/report/report.ts');
        const w = await writeReport(r, out, file);
        process.stderr.write(`report written in ${fmtMs(performance.now() - t1)}: ${w.html}\n        ${w.md}\n        ${w.json}\n`);
      }
      if (target) writeJson(target, r);
      if (target !== '-') process.stdout.write(summary(r) + '\n' + terminalSummary(r) + '\n');
    }
  },
};
