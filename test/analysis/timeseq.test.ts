/**
 * The time–sequence graph and bytes in flight, from the second read of a crafted capture: SACKed
 * bytes leave the flight, flagged segments survive the thinning of a long transfer, and the graph
 * marks each retransmission with its frame.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePcap } from './capwriter.ts';
import { ACK, PSH, SACK_HANDSHAKE, at, dataStep, tcp4, type Step } from './craft.ts';
import { tempDir } from '../helpers.ts';
import { MAX_MARKS, traceConnections } from '../../analysis/tcp/trace.ts';
import { flight, flightSvg, timeSequenceSvg } from '../../analysis/report/timeseq.ts';


let dir: string;
beforeAll(async () => { dir = await tempDir('audiolab-timeseq-'); });

async function trace(name: string, steps: Step[]): Promise<ReturnType<typeof traceConnections>> {
  const file = join(dir, `${name}.pcap`);
  await writeFile(file, writePcap(tcp4([...SACK_HANDSHAKE, ...steps])));
  return traceConnections(file, [0]);
}

describe('bytes in flight', () => {
  it('is the highest byte sent less the ACK, less what the SACK blocks say arrived above it; against the window', async () => {
    const t = await trace('sack', [
      dataStep(30, 0), dataStep(30.1, 1), dataStep(30.2, 2), dataStep(30.3, 3), dataStep(30.4, 4),
      // the receiver has segment 0, and 2–3 beyond the hole at 1: in flight 5000 − 1000 − 2000
      [50, 's', { seq: 5001, ack: at(1), flags: ACK, win: 4000, sack: [[at(2), at(4)]] }],
    ]);
    const d = t.get(0)!.c2s;
    expect([d.segmentCount, d.ackCount]).toEqual([5, 2]); // the handshake's ACK of the SYN-ACK is the server's direction
    const f = flight(d);
    expect(f.maxFlight).toBe(5000);
    expect(f.points[f.points.length - 1]).toMatchObject({ flight: 2000, window: 4000 });
    // four of the five segments left with the flight within 10 % of a 64240-byte window? none did
    expect(f.windowLimited).toBe(0);
    expect(flightSvg(d, 'Bytes in flight', 'client', 'server').words).toMatch(/the window was not what limited client/);
  });

  it('says the receiver limited the sender when the flight fills its window', async () => {
    const steps: Step[] = [];
    // one segment at a time into a 1000-byte window: each fills it (but the first, sent into the SYN-ACK's)
    for (let k = 0; k < 40; k++) steps.push(dataStep(30 + k, k), [30.5 + k, 's', { seq: 5001, ack: at(k + 1), flags: ACK, win: 1000 }]);
    const d = (await trace('window-limited', steps)).get(0)!.c2s;
    const f = flight(d);
    expect(f.windowLimited).toBe(39 / 40);
    expect(flightSvg(d, 'x', 'client', 'server').words).toMatch(/server's window limited client/);
  });
});

describe('time–sequence graph', () => {
  it('marks a retransmission with its frame, and keeps it when a long transfer is thinned', async () => {
    const steps: Step[] = [];
    const n = MAX_MARKS + 5000;
    let frame = 0;
    for (let k = 0; k < n; k++) {
      steps.push(dataStep(30 + k * 0.01, k));
      if (k % 2 === 1) steps.push([30 + k * 0.01 + 0.005, 's', { seq: 5001, ack: at(k + 1), flags: ACK }]);
      // segment 7 again early on, before the marks are thinned: a retransmission (spurious: already ACKed)
      if (k === 100) {
        steps.push([30 + k * 0.01 + 0.007, 'c', { seq: at(7), ack: 5001, flags: PSH | ACK, payload: 1000 }]);
        frame = SACK_HANDSHAKE.length + steps.length;
      }
    }
    const d = (await trace('long', steps)).get(0)!.c2s;
    expect(d.segmentCount).toBe(n + 1);
    expect(d.thinned).toBe(true);
    expect(d.segments.n).toBeLessThanOrEqual(MAX_MARKS);
    const svg = timeSequenceSvg(d, 'Time–sequence graph, client→server (tcp.stream 0)', 'client', 'server');
    expect(svg).toContain(`<title>frame ${frame}: spurious retransmission, seq 7001, 1000 bytes`);
    expect(svg).toContain('data-kind="time-sequence"');
    expect(svg).toContain(`">client sent ${((n * 1000) / 2 ** 20).toFixed(2)} MiB in ${n + 1} data segments`);
    expect(svg).toMatch(/thinned to fit the chart/);
  });

  it('cuts a long idle spell out of the time axis, so a short burst after it is drawn wide', async () => {
    // a small message, 2 s of nothing, then a 40-segment burst in 4 ms
    const steps: Step[] = [dataStep(30, 0), [31, 's', { seq: 5001, ack: at(1), flags: ACK }]];
    for (let k = 1; k <= 40; k++) steps.push(dataStep(2030 + k * 0.1, k));
    steps.push([2040, 's', { seq: 5001, ack: at(41), flags: ACK }]);
    const d = (await trace('idle', steps)).get(0)!.c2s;
    const svg = timeSequenceSvg(d, 'Time–sequence graph, client→server (tcp.stream 0)', 'client', 'server');
    expect(svg).toMatch(/The time axis leaves out 1 idle spell \(the shortest 2\.0 s\)/);
    // the burst's bars spread over 100 px and more, not the pixel or two a linear axis leaves them
    const xs = [...svg.matchAll(/M([\d.]+),[\d.]+V/g)].map((m) => Number(m[1]));
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(100); // on one linear axis: 1.3 px
  });

  it('an ACK of bytes never sent (a broken peer ACKing below the ISN) neither sets the scale nor empties the flight', async () => {
    const d = (await trace('garbage-ack', [dataStep(30, 0), dataStep(31, 1), [40, 's', { seq: 5001, ack: 7, flags: ACK, sack: [[3, 9]] }], [50, 's', { seq: 5001, ack: at(1), flags: ACK }]])).get(0)!.c2s;
    const svg = timeSequenceSvg(d, 'Time–sequence graph, client→server (tcp.stream 0)', 'client', 'server');
    const ticks = [...svg.matchAll(/text-anchor="end">([\d.]+)(k|M|G)?<\/text>/g)].map((m) => Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] ? 1e6 : 1));
    expect(Math.max(...ticks)).toBeLessThan(10_000);
    expect(flight(d).points.at(-1)!.flight).toBe(1000);
  });
});
