/** The findings' words: a count agrees with its noun, and a zero window says whose buffer is full. */
import { describe, expect, it } from 'vitest';
import { causeCounts, flagText, headline, impairmentWords, retransmissionWords } from '../../analysis/report/findings.ts';
import type { DirectionReport } from '../../analysis/analyze.ts';
import type { RetransmissionRecord } from '../../analysis/tcp/causes.ts';
import type { FullAnalysis } from '../../analysis/app/index.ts';
import { capturePoint } from '../../analysis/app/manifest.ts';

describe('findings in words', () => {
  it('one retransmission, two retransmissions; a zero window names whose buffer is full and who waits', () => {
    expect(flagText('retransmission', 1, 'server', 'client-b')).toMatch(/^1 retransmission \(/);
    expect(flagText('retransmission', 2, 'server', 'client-b')).toMatch(/^2 retransmissions \(/);
    expect(flagText('zeroWindow', 1, 'client-a', 'server')).toBe("1 zero window (client-a's receive buffer is full: server must wait)");
  });

  it('a retransmission in plain words: the frames it rests on, the silence and the rule; the causes counted', () => {
    const rec: RetransmissionRecord = { frame: 812, cause: 'timeout', rule: 'timeout', segment: 'data', bytes: [1001, 2449], original: 640, sinceOriginalMs: 204, sinceNewAckMs: 203.5, lastNewAck: { frame: 700, ack: 1001 }, dupAcks: null, episode: null, dsack: null };
    expect(retransmissionWords(rec, 'server', 'client-b')).toBe('frame 812 resends seq 1001 (1448 bytes) of frame 640, 204 ms after it, with no new ACK from client-b for 203.5 ms (the last: frame 700, asking for byte 1001): the retransmission timer expired (a timeout, RTO)');
    const fast = { ...rec, cause: 'fast', rule: 'fast', dupAcks: { count: 3, first: 701, last: 705 }, dsack: 830 } as const;
    expect(retransmissionWords(fast, 'server', 'client-b')).toBe("frame 812 resends seq 1001 (1448 bytes) of frame 640 after 3 duplicate ACKs from client-b (frames 701–705) asking for byte 1001: a fast retransmission, before any timer; client-b's D-SACK in frame 830 says these bytes arrived twice");
    // a SYN resent although the capture saw its SYN-ACK: the ACK was lost past the capture point
    const syn = { ...rec, frame: 13, segment: 'SYN', bytes: [0, 1], original: null, sinceOriginalMs: null, sinceNewAckMs: 1006.2, lastNewAck: { frame: 2, ack: 1 } } as const;
    expect(retransmissionWords({ ...syn, bytes: [0, 1] }, 'client-b', 'server')).toBe("frame 13 resends the SYN, although server acknowledged it in frame 2, 1006.2 ms earlier: that ACK was lost or late on its way to client-b (past the capture point), and client-b's retransmission timer expired (a timeout, RTO)");
    const d = { retransmissionCauses: { timeout: 1, fast: 3, recovery: 2, spurious: 0, probe: 0, other: 0 } } as unknown as DirectionReport;
    expect(causeCounts(d)).toBe('1 timeout, 3 fast, 2 in a recovery');
  });

  it('the clients: line names a few clients, counts the rest, and never says null', () => {
    const clients = Array.from({ length: 30 }, (_, i) => ({ conn: i, ip: '127.0.0.1', port: 4000 + i, name: i === 0 ? null : `c${i}`, asked: null, role: null }));
    const r = { capture: { file: 'x.pcap', packets: 1, tcpPackets: 1, duration: 1, partial: false }, connections: [], app: { clients, streams: [], plays: [], relays: [] } } as unknown as FullAnalysis;
    const line = headline(r).find((l) => l.startsWith('clients:'))!;
    expect(line).not.toContain('null');
    expect(line).toContain('unnamed (127.0.0.1)');
    expect(line).toContain('and 22 more');
  });

  it('the summary names eight play-on and relayed streams, the broken first, and counts the rest by state', () => {
    const relays = Array.from({ length: 50 }, (_, i) => ({ kind: 'play-on', song: 's.wav', from: 'client-a', to: `l${i}`, intact: i === 40 ? false : i === 41 ? null : true, delayMs: null, stalls: [] }));
    const r = { capture: { file: 'x.pcap', packets: 1, tcpPackets: 1, duration: 1, partial: false }, connections: [], app: { clients: [], streams: [], plays: [], relays } } as unknown as FullAnalysis;
    const lines = headline(r).slice(1);
    expect(lines).toHaveLength(9);
    expect(lines[0]).toBe('play-on s.wav: library → l40, NOT intact');
    expect(lines[1]).toBe('play-on s.wav: library → l41, integrity unknown');
    expect(lines[8]).toBe("and 42 more play-on and relayed stream(s): 42 intact (all of them: the report's Relayed streams)");
  });

  it('impairments in words, not JSON', () => {
    expect(impairmentWords({ profile: 'clean', applied: [], unavailable: [] })).toBe('profile clean (no impairment)');
    expect(impairmentWords({ profile: 'lossy', applied: ['client-b: loss 1 in 25'], unavailable: ['client-b: delay 20ms (no netem)'] }))
      .toBe('profile lossy: client-b: loss 1 in 25; not possible on this kernel: client-b: delay 20ms (no netem)');
  });

  it('says where the capture sits and what it can see of an impaired link', () => {
    const docker = capturePoint({ runtime: 'docker', capture: { interface: 'eth0' }, impairments: { profile: 'lossy', applied: ['client-b: loss 1 in 25'], unavailable: [] } });
    expect(docker).toMatch(/^The capture sits at the server, in its network namespace \(interface eth0\)/);
    expect(docker).toContain("client-b's link is impaired (loss 1 in 25): a segment the server sends that is lost on that link is in the capture, and its loss shows as the server's retransmission and client-b's duplicate ACKs");
    expect(capturePoint({ runtime: 'local', capture: { interface: 'lo' }, impairments: { profile: 'clean', applied: [], unavailable: [] } })).toMatch(/loopback interface \(interface lo\): it sees both ends/);
  });
});
