/** `audiolab lab`: run the experiment and leave a capture, recordings, a manifest and the analysis in runs/. */
import { runLocalLab } from '../../lab/local.ts';
import { AudioLabError } from '../../errors.ts';
import { int, str, type Command } from '../command.ts';

export const labCommand: Command = {
  name: 'lab',
  summary: 'Run the lab: server, two clients and a capture; leaves runs/<run-id>/ (capture, manifest, recordings, analysis).',
  details: 'Runtimes: local — processes on 127.0.0.10 (server), .11 (client-a), .12 (client-b), captured on loopback with libpcap (cap); needs capture rights (root or CAP_NET_RAW). The Docker runtime is `docker compose up` (in progress).',
  options: {
    runtime: { type: 'string', help: 'local', placeholder: 'NAME', default: 'local' },
    runs: { type: 'string', help: 'Folder for the runs', placeholder: 'DIR', default: 'runs' },
    port: { type: 'string', help: 'Server port', placeholder: 'PORT', default: '5050' },
    capture: { type: 'string', help: 'cap (libpcap from Node; 65535-byte snap length) or tcpdump (whole loopback segments)', placeholder: 'TOOL', default: 'cap' },
  },
  async run(ctx) {
    const runtime = str(ctx, 'runtime') ?? 'local';
    if (runtime !== 'local') throw new AudioLabError('AUDIOLAB_ERR_USAGE', `runtime ${JSON.stringify(runtime)} is not available yet (use --runtime local)`);
    const t0 = Date.now();
    const capture = str(ctx, 'capture') ?? 'cap';
    if (capture !== 'cap' && capture !== 'tcpdump') throw new AudioLabError('AUDIOLAB_ERR_USAGE', `--capture must be cap or tcpdump, not ${JSON.stringify(capture)}`);
    const r = await runLocalLab({ runsDir: str(ctx, 'runs') ?? 'runs', port: int(ctx, 'port', 5050), capture, onStep: (m) => process.stderr.write(`[lab] ${m}\n`) });
    const lines = [
      `${r.ok ? 'Lab run complete' : 'Lab run FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${r.runDir}`,
      `  capture.pcap   the packets (open in Wireshark with our dissector: wireshark -X lua_script:analysis/wireshark/audiolab.lua ${r.capture})`,
      `  report.html    the report (open in a browser: ${r.runDir}/report.html); report.md + charts/ for a code forge`,
      '  report.json    the full analysis (schema in docs/report-schema.md)',
      '  lab.json       the manifest (hosts, capture, machine, scenario, timings)',
      '  recordings/    what client-a and client-b played',
      '  logs/          server and client logs',
      ...r.failures.map((f) => `  ! ${f}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return r.ok ? 0 : 1;
  },
};
