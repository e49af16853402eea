/**
 * The cause of each retransmission (analysis/tcp/causes.ts), on crafted captures with one story
 * each, and the counts against tshark: fast is its tcp.analysis.fast_retransmission, spurious its
 * spurious_retransmission, and all causes together its tcp.analysis.retransmission.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePcap } from './capwriter.ts';
import { ACK, PSH, SYN, SACK_HANDSHAKE, ackStep, at, dataStep, tcp4, type Segment, type Step } from './craft.ts';
import { flagDifferences } from './oracle.ts';
import { tempDir } from '../helpers.ts';
import { analyze, type DirectionReport } from '../../analysis/analyze.ts';
import { CAUSES } from '../../analysis/tcp/causes.ts';


let dir: string;
beforeAll(async () => { dir = await tempDir('audiolab-causes-'); });


const tsharkFrames = (file: string, filter: string): number[] => {
  const out = execFileSync('tshark', ['-n', '-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim();
  return out ? out.split('\n').map(Number) : [];
};

/** Analyses the story; checks the flags and the cause counts against tshark; returns the client's direction. */
async function story(name: string, steps: Step[], handshake = SACK_HANDSHAKE): Promise<DirectionReport> {
  const file = join(dir, `${name}.pcap`);
  await writeFile(file, writePcap(tcp4([...handshake, ...steps])));
  expect(flagDifferences(file)).toEqual([]);
  const r = analyze(file);
  const dirs = r.connections.flatMap((c) => [c.clientToServer, c.serverToClient]);
  const sum = (k: (d: DirectionReport) => number): number => dirs.reduce((n, d) => n + k(d), 0);
  expect(sum((d) => d.retransmissionCauses.fast)).toBe(tsharkFrames(file, 'tcp.analysis.fast_retransmission').length);
  expect(sum((d) => d.retransmissionCauses.spurious)).toBe(tsharkFrames(file, 'tcp.analysis.spurious_retransmission').length);
  expect(sum((d) => CAUSES.reduce((n, c) => n + d.retransmissionCauses[c], 0))).toBe(tsharkFrames(file, 'tcp.analysis.retransmission').length);
  return r.connections[0]!.clientToServer;
}

describe('the cause of each retransmission, in crafted stories (tshark agrees on the flags and counts)', () => {
  it('a timeout: no ACK for 210 ms, then the first unACKed segment again, and the go-back after it', async () => {
    const d = await story('timeout', [dataStep(30, 0), dataStep(31, 1), dataStep(32, 2), ackStep(50, 1), [260, 'c', { seq: at(1), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(280, 2), [281, 'c', { seq: at(2), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(300, 3)]);
    expect(d.retransmissions.map((r) => [r.frame, r.rule, r.original])).toEqual([[8, 'timeout', 5], [10, 'timeout-go-back', 6]]);
    expect(d.retransmissions[0]).toMatchObject({ cause: 'timeout', segment: 'data', bytes: [1001, 2001], sinceOriginalMs: 229, sinceNewAckMs: 210, lastNewAck: { frame: 7, ack: 1001 } });
    expect(d.retransmissions[1]).toMatchObject({ cause: 'timeout', episode: 8 });
  });

  it('a fast retransmission after three duplicate ACKs with SACK, then a second hole repaired in the same recovery', async () => {
    const sack = (to: number): Partial<Segment> => ({ sack: [[at(2), at(to)]] });
    const d = await story('fast', [
      dataStep(30, 0), dataStep(30.1, 1), dataStep(30.2, 2), dataStep(30.3, 3), dataStep(30.4, 4), dataStep(30.5, 5),
      ackStep(50, 1), ackStep(50.1, 1, sack(3)), ackStep(50.2, 1, { sack: [[at(2), at(3)], [at(4), at(5)]] }), ackStep(50.3, 1, { sack: [[at(2), at(3)], [at(4), at(6)]] }),
      [52, 'c', { seq: at(1), ack: 5001, flags: PSH | ACK, payload: 1000 }],
      ackStep(72, 3, { sack: [[at(4), at(6)]] }),
      [73, 'c', { seq: at(3), ack: 5001, flags: PSH | ACK, payload: 1000 }],
      ackStep(93, 6),
    ]);
    expect(d.retransmissions.map((r) => [r.frame, r.cause, r.rule])).toEqual([[14, 'fast', 'fast'], [16, 'recovery', 'recovery-ongoing']]);
    expect(d.retransmissions[0]!.dupAcks).toEqual({ count: 3, first: 11, last: 13 });
    expect(d.retransmissions[1]).toMatchObject({ episode: 14, original: 7 });
    expect(d.retransmissionCauses).toMatchObject({ fast: 1, recovery: 1 });
  });

  it('one duplicate ACK with a SACK block: a recovery Wireshark does not call fast', async () => {
    const d = await story('recovery-reported', [dataStep(30, 0), dataStep(30.1, 1), dataStep(30.2, 2), ackStep(50, 1), ackStep(50.1, 1, { sack: [[at(2), at(3)]] }), [55, 'c', { seq: at(1), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(71, 3)]);
    expect(d.retransmissions.map((r) => [r.cause, r.rule, r.dupAcks?.count])).toEqual([['recovery', 'recovery-reported', 1]]);
  });

  it('a spurious retransmission, and the D-SACK that says the copy was not needed', async () => {
    const d = await story('spurious', [dataStep(30, 0), dataStep(31, 1), ackStep(50, 2), [300, 'c', { seq: at(1), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(320, 2, { sack: [[at(1), at(2)]] })]);
    expect(d.retransmissions).toMatchObject([{ frame: 7, cause: 'spurious', rule: 'spurious', original: null, lastNewAck: { frame: 6, ack: 2001 }, dsack: 8 }]);
  });

  it('a tail-loss probe: the last segment again 60 ms after the last ACK, with no duplicate ACKs', async () => {
    const d = await story('tail-loss-probe', [dataStep(30, 0), dataStep(30.1, 1), dataStep(30.2, 2), ackStep(50, 1), [110, 'c', { seq: at(2), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(130, 3)]);
    expect(d.retransmissions.map((r) => [r.cause, r.rule, r.original])).toEqual([['probe', 'tail-loss-probe', 6]]);
  });

  it('a window probe: unACKed bytes again while the receiver\'s window is 0', async () => {
    const d = await story('zero-window-probe', [dataStep(30, 0), dataStep(30.1, 1), ackStep(50, 1, { win: 0 }), [150, 'c', { seq: at(1), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(170, 2)]);
    expect(d.retransmissions.map((r) => [r.cause, r.rule])).toEqual([['probe', 'zero-window-probe']]);
  });

  it('a SYN again after a second: a timeout', async () => {
    const d = await story('syn-timeout', [[1000, 'c', { seq: 1000, ack: 0, flags: SYN, mss: 1460 }]], [SACK_HANDSHAKE[0]!]);
    expect(d.retransmissions.map((r) => [r.frame, r.cause, r.segment, r.original])).toEqual([[2, 'timeout', 'SYN', 1]]);
  });

  it('a copy 5 µs after the original, nothing from the receiver between: a duplicate made on the way, not a resend', async () => {
    const d = await story('duplicate', [dataStep(30, 0), dataStep(30.1, 1), [30.105, 'c', { seq: at(1), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(50, 2)]);
    expect(d.retransmissions.map((r) => [r.frame, r.cause, r.rule, r.original])).toEqual([[6, 'other', 'duplicate', 5]]);
  });

  it('bytes the capture never saw before, below bytes it had: a gap filled (reordered, or lost before the capture point)', async () => {
    const d = await story('gap-filled', [dataStep(30, 0), dataStep(30.1, 2), [60, 'c', { seq: at(1), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(80, 3)]);
    expect(d.retransmissions.map((r) => [r.frame, r.cause, r.rule, r.original])).toEqual([[6, 'other', 'gap-filled', null]]);
  });

  it('a resend no rule explains is "other", not forced into a cause', async () => {
    const d = await story('other', [dataStep(30, 0), dataStep(30.1, 1), dataStep(30.2, 2), ackStep(50, 1), [90, 'c', { seq: at(1), ack: 5001, flags: PSH | ACK, payload: 1000 }], ackStep(110, 3)]);
    expect(d.retransmissions.map((r) => [r.cause, r.rule])).toEqual([['other', 'other']]);
  });
});
