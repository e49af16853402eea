/**
 * Live capture with tcpdump, the same interface as LiveCapture (cap). The local lab uses it when
 * asked (`--capture tcpdump`): tcpdump keeps whole loopback segments (cap's snap length is fixed at
 * 65535 bytes, shorter than loopback's 65536-byte MTU) and the kernel's timestamps. Immediate mode:
 * no packets wait in a half-filled ring block when it is stopped.
 */
import { ProcessCapture } from './process.ts';

export class TcpdumpCapture extends ProcessCapture {
  constructor(iface: string, filter: string, out: string) {
    super(iface, filter, out, {
      name: 'tcpdump', command: 'tcpdump', args: ['-i', iface, '-s', '0', '-B', '65536', '-U', '--immediate-mode', '-n', '-w', out, filter],
      ready: 'listening on', count: /(\d+) packets? captured/, settleMs: 300,
    });
  }
}
