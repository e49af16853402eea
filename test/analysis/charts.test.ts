/** The charts a student reads: ladder labels no arrow crosses, windows with their scale in words, axis labels the edge does not cut. */
import { describe, expect, it } from 'vitest';
import { ladderSvg, windowWords } from '../../analysis/report/svg.ts';
import type { LadderStep } from '../../analysis/tcp/connection.ts';

const step = (over: Partial<LadderStep>): LadderStep => ({ t: 0, frame: 1, fromClient: true, flags: 'SYN', seq: 0, ack: 0, len: 0, window: 65495, windowScale: 1, options: '', ...over });

describe('ladder', () => {
  it('says a SYN\'s window is unscaled, and gives a later window times its scale', () => {
    expect(windowWords(step({ flags: 'SYN', window: 65495 }))).toBe("win=65495 (a SYN's window is not scaled)");
    expect(windowWords(step({ flags: 'ACK', window: 64, windowScale: 128 }))).toBe('win=64×128=8192');
    expect(windowWords(step({ flags: 'ACK', window: 512, windowScale: 1 }))).toBe('win=512');
    expect(windowWords(step({ flags: 'ACK', window: 64, windowScale: null }))).toMatch(/scale unknown/);
  });

  it('keeps each label and its options clear of every arrow', () => {
    const ladder = [
      step({ frame: 1, options: 'MSS=65495 WS=128 SACK_PERM TSval=4037316231' }),
      step({ frame: 2, fromClient: false, flags: 'SYN-ACK', ack: 1, options: 'MSS=65495 WS=128 SACK_PERM TSval=4037316231' }),
      step({ frame: 3, flags: 'ACK', seq: 1, ack: 1, window: 64, windowScale: 128 }),
      step({ frame: 9, flags: 'FIN-ACK', seq: 1, ack: 1, window: 64, windowScale: 128 }),
    ];
    const svg = ladderSvg({ index: 0, client: { ip: '10.0.0.1', port: 4000 }, server: { ip: '10.0.0.2', port: 5050 }, ladder } as never, 'client', 'server');
    const arrows = [...svg.matchAll(/<line x1="(\d+)" y1="([\d.]+)" x2="(\d+)" y2="([\d.]+)" stroke="[^"]+" stroke-width="1.6"/g)].map((m) => [Number(m[2]), Number(m[4])] as const);
    const texts = [...svg.matchAll(/<text x="400" y="([\d.]+)"[^>]*>([^<]*)</g)].map((m) => ({ y: Number(m[1]), text: m[2]! }));
    expect(arrows).toHaveLength(4);
    expect(texts.length).toBe(6);
    // a text line spans about 11 px above its baseline; no arrow may pass through that band
    for (const t of texts) for (const [ya, yb] of arrows) expect(t.y < ya || t.y - 11 > yb).toBe(true);
    expect(texts.map((t) => t.text)).toContain('ACK  seq=1 ack=1  win=64×128=8192');
  });
});

describe('chart axes', () => {
  it('aligns the end labels of a time axis inward, so neither is cut at the chart\'s edge', async () => {
    const { linesSvg } = await import('../../analysis/report/svg.ts');
    const svg = linesSvg('rtt', 'RTT', [{ name: 'a', points: [[0, 1], [12.5, 3]] }], 'seconds since the capture began', 'ms (data segment → its ACK)');
    const ticks = [...svg.matchAll(/<text x="[\d.]+" y="230" text-anchor="(start|middle|end)">([\d.k]+)<\/text>/g)].map((m) => [m[1], m[2]]);
    expect(ticks[0]).toEqual(['start', '0']);
    expect(ticks.at(-1)).toEqual(['end', '12.5']);
  });
});
