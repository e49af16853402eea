/** Relayed streams judged leg by leg: a leg the capture lacks bytes of is unknown, not broken. */
import { describe, expect, it } from 'vitest';
import { bothLegs, pairRelays } from '../../analysis/app/relays.ts';
import type { ChunkTrack, StreamRecord } from '../../analysis/app/model.ts';

const SHA = 'a'.repeat(64);

function stream(over: Partial<StreamRecord>): StreamRecord {
  return {
    id: '0/c2s/1', conn: 0, dir: 'c2s', streamId: 1, kind: 'send-to', song: 's.wav', client: 'client-a', peer: 'client-b', size: 100, offset: 0,
    declaredSha256: SHA, sha256: SHA, bytes: 100, chunks: 1, start: 0, end: 1, durationMs: 1000, throughputBps: 800, status: 'complete',
    abort: null, intact: true, filter: '', ...over,
  };
}
const track: ChunkTrack = { offsets: [0], lengths: [100], t0: [0.1], t1: [0.1], frames: [1] };

describe('relays', () => {
  it('both legs: broken if either is, unknown if one cannot be judged, intact only if both are', () => {
    expect(bothLegs(true, true)).toBe(true);
    expect(bothLegs(true, null)).toBe(null);
    expect(bothLegs(null, true)).toBe(null);
    expect(bothLegs(false, null)).toBe(false);
    expect(bothLegs(true, false)).toBe(false);
  });

  it('a relay whose sender leg lacks bytes is unknown, not NOT intact; a play-on the capture cannot hash is unknown too', () => {
    const into = stream({ id: '0/c2s/1', sha256: null, intact: null, bytes: 80 });
    const out = stream({ id: '1/s2c/2', conn: 1, dir: 's2c', kind: 'relay', client: 'client-b', peer: 'client-a' });
    const playOn = stream({ id: '1/s2c/3', conn: 1, dir: 's2c', streamId: 3, kind: 'play-on', client: 'client-b', peer: 'client-a', sha256: null, intact: null });
    const tracks = new Map([[into.id, track], [out.id, track], [playOn.id, track]]);
    const [relay, on] = pairRelays([into, out, playOn], tracks, new Map([['s.wav', SHA]]), new Map());
    expect(relay).toMatchObject({ kind: 'relay', intact: null, contentMatched: null, bytesIn: 80 });
    expect(on).toMatchObject({ kind: 'play-on', intact: null, contentMatched: null });
  });
});
