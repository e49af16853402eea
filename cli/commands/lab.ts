/** `audiolab lab`: run the experiment and leave a capture, recordings, a manifest and the report in runs/. */
import { runLocalLab } from '../../lab/local.ts';
import { PROFILES, runDockerLab } from '../../lab/docker.ts';
import { parseProfiles, runDockerProfiles } from '../../lab/profiles.ts';
import { AudioLabError } from '../../services/protocol/errors.ts';
import { int, str, type Command } from '../command.ts';

export const labCommand: Command = {
  name: 'lab',
  details: [
    'Runtimes:',
    '  docker — `docker compose up` (Compose v2, or v1.29): a star network 198.18.0.0/24 with the server (.10), client-a (.11), client-b (.12) and a tcpdump sidecar in the server\'s namespace; --profile picks the impairments of client-b\'s link (clean, lossy, slow, jittery: capture/profiles/). Ctrl-C stops the containers and keeps a valid capture.',
    '  local — processes on 127.0.0.10 (server), .11 (client-a), .12 (client-b), captured on loopback with tcpdump when it can capture there, else with libpcap from Node (cap, whose 65535-byte snap length cuts the longest loopback frames); needs capture rights (root or CAP_NET_RAW). No impairments.',
    'Exit 0 when every step passed, 1 when one failed (listed), 130 when interrupted.',
  ].join('\n'),
  options: {
    runtime: { type: 'string', help: 'docker or local', placeholder: 'NAME', default: 'local' },
    profile: { type: 'string', help: `Impairment profile (docker): ${PROFILES.join(', ')}; a list (clean,lossy) runs the lab once per profile and compares the runs`, placeholder: 'NAME[,NAME…]', default: 'clean' },
    scale: { type: 'string', help: 'Extra listeners (docker): N more receivers of client-a\'s play-on and relay, for load runs', placeholder: 'N', default: '0' },
    runs: { type: 'string', help: 'Folder for the runs (local runtime; Docker uses ./runs)', placeholder: 'DIR', default: 'runs' },
    port: { type: 'string', help: 'Server port (local runtime)', placeholder: 'PORT', default: '5050' },
    capture: { type: 'string', help: 'auto (tcpdump when it can capture, else cap), tcpdump (whole loopback segments) or cap (libpcap from Node; 65535-byte snap length: long loopback frames lose their tail) (local runtime)', placeholder: 'TOOL', default: 'auto' },
  },
  examples: ['audiolab lab --runtime docker', 'audiolab lab --runtime docker --profile lossy', 'audiolab lab --runtime docker --profile clean,lossy', 'audiolab lab --runtime docker --scale 5', 'sudo audiolab lab --runtime local --capture tcpdump'],
  async run(ctx) {
    const runtime = str(ctx, 'runtime') ?? 'local';
    const say = (m: string): void => { process.stderr.write(`[lab] ${m}\n`); };
    let r: { ok: boolean; runDir: string; capture: string; failures: string[]; interrupted?: boolean };
    const t0 = Date.now();
    if (runtime === 'docker') {
      const ac = new AbortController();
      const onInt = (): void => ac.abort();
      ctx.signal.addEventListener('abort', onInt);
      process.once('SIGTERM', onInt);
      const spec = str(ctx, 'profile') ?? 'clean';
      try {
        if (spec.includes(',')) return await labProfiles(parseProfiles(spec), int(ctx, 'scale', 0), say, ac.signal, t0);
        r = await runDockerLab({ profile: spec, scale: int(ctx, 'scale', 0), onStep: say, signal: ac.signal });
      } finally {
        ctx.signal.removeEventListener('abort', onInt);
        process.off('SIGTERM', onInt);
      }
    } else if (runtime === 'local') {
      const capture = str(ctx, 'capture') ?? 'auto';
      if (capture !== 'auto' && capture !== 'cap' && capture !== 'tcpdump') throw new AudioLabError('AUDIOLAB_ERR_USAGE', `--capture must be auto, tcpdump or cap, not ${JSON.stringify(capture)}`);
      if ((str(ctx, 'profile') ?? 'clean') !== 'clean') throw new AudioLabError('AUDIOLAB_ERR_USAGE', 'impairment profiles need the Docker runtime (--runtime docker)');
      r = await runLocalLab({ runsDir: str(ctx, 'runs') ?? 'runs', port: int(ctx, 'port', 5050), capture, onStep: say });
    } else {
      throw new AudioLabError('AUDIOLAB_ERR_USAGE', `unknown runtime ${JSON.stringify(runtime)} (docker or local)`);
    }
    const lines = [
      `${r.interrupted ? 'Lab run INTERRUPTED' : r.ok ? 'Lab run complete' : 'Lab run FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${r.runDir}`,
      `  capture.pcap   the packets; open them in Wireshark with our dissector:`,
      `                 wireshark -X lua_script:analysis/wireshark/audiolab.lua ${r.capture}`,
      `  capture.pcapng the same packets, each message and finding in a comment (plain Wireshark)`,
      `  report.html    the report (open in a browser); report.md + charts/ for a code forge`,
      '  report.json    the full analysis (schema in docs/report-schema.md)',
      '  lab.json       the manifest (hosts, capture, impairments, timings)',
      '  recordings/    what the clients played',
      ...r.failures.map((f) => `  ! ${f}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return r.interrupted ? 130 : r.ok ? 0 : 1;
  },
};

/** Several profiles: each run's folder, then the comparisons, then the outcome. */
async function labProfiles(profiles: string[], scale: number, say: (m: string) => void, signal: AbortSignal, t0: number): Promise<number> {
  const r = await runDockerProfiles(profiles, { scale, onStep: say, signal });
  const lines = [
    `${r.interrupted ? 'Lab runs INTERRUPTED' : r.ok ? 'Lab runs complete' : 'Lab runs FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s:`,
    ...r.runs.map((x) => `  ${x.profile.padEnd(8)} ${x.runDir}${x.ok ? '' : x.interrupted ? ' (interrupted)' : ' (failed)'}`),
    ...r.comparisons.flatMap((c) => [`  comparison     ${c.html}`, ...c.differences.slice(0, 3).map((d) => `    - ${d}`)]),
    ...r.runs.flatMap((x) => x.failures.map((f) => `  ! ${x.profile}: ${f}`)),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return r.interrupted ? 130 : r.ok ? 0 : 1;
}
