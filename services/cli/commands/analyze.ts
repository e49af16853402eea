/** `audiolab analyze CAPTURE`: follow every TCP connection of a capture and write the JSON analysis. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyze, type AnalysisResult } from '../../../analysis/analyze.ts';
import { AudioLabError } from '../../errors.ts';
import { str, type Command } from '../command.ts';
import { bar, fmtBytes, fmtMs, ProgressLine } from '../ui.ts';

function summary(r: AnalysisResult): string {
  const lines = [`${r.capture.file}: ${r.capture.format}, ${r.capture.packets} packets (${r.capture.tcpPackets} TCP), ${fmtMs(r.capture.duration * 1000)}, ${r.connections.length} TCP connection(s)${r.capture.partial ? ' — PARTIAL: the file is truncated' : ''}`];
  for (const c of r.connections) {
    const f = (d: typeof c.clientToServer): string => {
      const flagged = Object.entries(d.flags).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
      return `${d.packets} pkts, ${fmtBytes(d.payloadBytes)}${flagged ? `; ${flagged}` : ''}`;
    };
    lines.push(`  #${c.index} ${c.client.ip}:${c.client.port} → ${c.server.ip}:${c.server.port}  ${c.state} ${c.history}  iRTT ${c.handshake.initialRttMs === null ? '—' : `${c.handshake.initialRttMs.toFixed(3)} ms`}  MSS ${c.handshake.mss.client ?? '—'}/${c.handshake.mss.server ?? '—'}`);
    lines.push(`      client→server: ${f(c.clientToServer)}`);
    lines.push(`      server→client: ${f(c.serverToClient)}`);
  }
  return lines.join('\n');
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'Analyse a pcap/pcapng capture: every TCP connection, handshake, segment sizes, RTT, Wireshark\'s analysis flags.',
  args: 'CAPTURE',
  arity: [1, 1],
  details: 'Writes the analysis as JSON (schema: docs/report-schema.md) to --json FILE (or - for stdout) and/or DIR/analysis.json with --out DIR; prints a summary otherwise.\nExit 1 with a coded error (and the byte offset) for unreadable or corrupt captures; a truncated capture is analysed as far as it goes and marked partial (exit 0).',
  options: {
    out: { type: 'string', short: 'o', help: 'Write analysis.json into this folder', placeholder: 'DIR' },
    json: { type: 'string', help: 'Write the JSON to FILE, or - for stdout', placeholder: 'FILE|-' },
  },
  examples: ['audiolab analyze runs/latest/capture.pcap', 'audiolab analyze lab.pcapng --json - | jq ".connections[].handshake.initialRttMs"'],
  async run(ctx) {
    const file = ctx.positionals[0]!;
    const line = new ProgressLine();
    const t0 = performance.now();
    let result: AnalysisResult;
    try {
      result = analyze(file, { onProgress: (n, total) => line.update(`analysing ${file} ${bar(n / total)} ${fmtBytes(n)}/${fmtBytes(total)}`) });
    } catch (err) {
      line.done();
      if (err instanceof AudioLabError && err.context.partialResult) {
        process.stderr.write(`audiolab: the capture is corrupt after ${String((err.context.partialResult as AnalysisResult).connections.length)} connection(s) were read; writing the partial result\n`);
        result = err.context.partialResult as AnalysisResult;
        await emit(result);
      }
      throw err;
    }
    line.done();
    await emit(result);
    process.stderr.write(`analysed in ${fmtMs(performance.now() - t0)}\n`);
    return 0;

    async function emit(r: AnalysisResult): Promise<void> {
      const json = JSON.stringify(r, null, 1);
      const out = str(ctx, 'out');
      const target = str(ctx, 'json');
      if (out) {
        await mkdir(out, { recursive: true });
        await writeFile(join(out, 'analysis.json'), json);
      }
      if (target === '-') process.stdout.write(json + '\n');
      else if (target) await writeFile(target, json);
      if (target !== '-') process.stdout.write(summary(r) + '\n');
    }
  },
};
