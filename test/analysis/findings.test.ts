/** The findings' words: a count agrees with its noun, and a zero window says whose buffer is full. */
import { describe, expect, it } from 'vitest';
import { flagText, headline, impairmentWords } from '../../analysis/report/findings.ts';
import type { FullAnalysis } from '../../analysis/app/index.ts';

describe('findings in words', () => {
  it('one retransmission, two retransmissions; a zero window names whose buffer is full and who waits', () => {
    expect(flagText('retransmission', 1, 'server', 'client-b')).toMatch(/^1 retransmission \(/);
    expect(flagText('retransmission', 2, 'server', 'client-b')).toMatch(/^2 retransmissions \(/);
    expect(flagText('zeroWindow', 1, 'client-a', 'server')).toBe("1 zero window (client-a's receive buffer is full: server must wait)");
  });

  it('the clients: line names a few clients, counts the rest, and never says null', () => {
    const clients = Array.from({ length: 30 }, (_, i) => ({ conn: i, ip: '127.0.0.1', port: 4000 + i, name: i === 0 ? null : `c${i}`, asked: null, role: null }));
    const r = { capture: { file: 'x.pcap', packets: 1, tcpPackets: 1, duration: 1, partial: false }, connections: [], app: { clients, streams: [], plays: [], relays: [] } } as unknown as FullAnalysis;
    const line = headline(r).find((l) => l.startsWith('clients:'))!;
    expect(line).not.toContain('null');
    expect(line).toContain('unnamed (127.0.0.1)');
    expect(line).toContain('and 22 more');
  });

  it('impairments in words, not JSON', () => {
    expect(impairmentWords({ profile: 'clean', applied: [], unavailable: [] })).toBe('profile clean (no impairment)');
    expect(impairmentWords({ profile: 'lossy', applied: ['client-b: loss 1 in 25'], unavailable: ['client-b: delay 20ms (no netem)'] }))
      .toBe('profile lossy: client-b: loss 1 in 25; not possible on this kernel: client-b: delay 20ms (no netem)');
  });
});
