/** `audiolab capture`: live capture with libpcap (the `cap` module) into a pcap file, with live counts. */
import { LiveCapture } from '../../capture/live.ts';
import { int, str, type Command } from '../command.ts';
import { fmtBytes, fmtMs, isTTY, ProgressLine } from '../ui.ts';

export const captureCommand: Command = {
  name: 'capture',
  details: 'Runs until Ctrl-C (exit 130, the file is complete), SIGTERM, --duration or --count. Needs capture rights (root or CAP_NET_RAW). Packets are timestamped on arrival in Node: cap does not pass libpcap\'s timestamps (the Docker lab uses tcpdump, which does).',
  options: {
    iface: { type: 'string', short: 'i', help: 'Interface', placeholder: 'IF', default: 'lo' },
    filter: { type: 'string', short: 'f', help: 'BPF capture filter', placeholder: 'BPF', default: 'tcp port 5050' },
    out: { type: 'string', short: 'o', help: 'pcap file to write', placeholder: 'FILE', default: 'capture.pcap' },
    duration: { type: 'string', help: 'Stop after this many seconds', placeholder: 'S' },
    count: { type: 'string', help: 'Stop after this many packets', placeholder: 'N' },
  },
  examples: ['sudo audiolab capture -i lo -f "tcp port 5050" -o lab.pcap'],
  async run(ctx) {
    const cap = new LiveCapture(str(ctx, 'iface') ?? 'lo', str(ctx, 'filter') ?? 'tcp port 5050', str(ctx, 'out') ?? 'capture.pcap');
    const line = new ProgressLine();
    const count = int(ctx, 'count', Infinity);
    const t0 = performance.now();
    await cap.start();
    process.stderr.write(`capturing on ${cap.iface} (${cap.filter}) into ${cap.out}${isTTY() ? '; Ctrl-C to stop' : ''}\n`);
    await new Promise<void>((resolve) => {
      cap.onPacket = (s) => {
        line.update(`${s.packets} packets, ${fmtBytes(s.bytes)}, ${fmtMs(performance.now() - t0)}`);
        if (s.packets >= count) resolve();
      };
      const duration = int(ctx, 'duration', 0);
      if (duration > 0) setTimeout(resolve, duration * 1000);
      ctx.signal.addEventListener('abort', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    const s = await cap.stop();
    line.done();
    process.stdout.write(`captured ${s.packets} packets (${fmtBytes(s.bytes)}) into ${cap.out}\n`);
    return 0;
  },
};
