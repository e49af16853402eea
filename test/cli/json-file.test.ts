import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeJsonFile } from '../../cli/json-file.ts';

describe('writeJsonFile', () => {
  const dirP = mkdtemp(join(tmpdir(), 'audiolab-json-'));
  afterAll(async () => rm(await dirP, { recursive: true, force: true }));

  const big = Array.from({ length: 3000 }, (_, i) => ({ index: i, name: `c${i}`, rtt: [[i / 7, 0.001 * i]], skip: undefined, s: 'quote " and \\ and é' }));
  const cases: Array<[string, object]> = [
    ['an empty object', {}],
    ['an analysis-like document larger than one write', { schemaVersion: 1, generator: 'x', capture: { file: 'a.pcap', warnings: [] }, connections: big, flagFilters: { a: 'tcp.analysis.a' }, manifest: null, app: { relays: [] } }],
    ['properties JSON.stringify leaves out, and holes and undefined in arrays', { a: undefined, f: () => 1, b: [1, undefined, () => 2, null], c: [], d: 'x' }],
    ['only omitted properties', { a: undefined }],
    ['an array first and last', { list: [{ x: 1 }, [2, 3]], tail: [0] }],
  ];
  for (const [n, [name, doc]] of cases.entries()) {
    it(`writes the bytes of JSON.stringify: ${name}`, async () => {
      const file = join(await dirP, `${n}.json`);
      writeJsonFile(file, doc);
      expect(await readFile(file, 'utf8')).toBe(JSON.stringify(doc));
    });
  }
});
