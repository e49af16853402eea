/**
 * The Wireshark Lua dissector (analysis/wireshark/audiolab.lua), run by real tshark on a real lab
 * capture: it is generated from the protocol definition, decodes every message without malformed
 * packets or Lua errors, counts each message type as our analysis does, and shows the relay: the
 * same chunk entering the server from client-a and leaving it for client-b.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers.ts';
import { runLocalLab, type LocalLabResult } from '../../lab/local.ts';
import { luaDissector } from '../../analysis/wireshark/generate.ts';
import { encodeToBuffer } from '../../services/protocol/index.ts';
import { writePcap } from './capwriter.ts';

const LUA = join(ROOT, 'analysis/wireshark/audiolab.lua');

interface Pdu { 'audiolab.message': string; 'audiolab.stream_id'?: string; 'audiolab.offset'?: string; 'audiolab.data'?: string }
interface Pkt { frame: number; stream: number; pdus: Pdu[] }

/** Every frame with audiolab PDUs, as tshark + our dissector see them. */
function tsharkAudiolab(file: string, extra: string[] = []): Pkt[] {
  const out = execFileSync('tshark', ['-X', `lua_script:${LUA}`, '-r', file, ...extra, '-Y', 'audiolab', '-T', 'json', '--no-duplicate-keys', '-j', 'frame tcp audiolab'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const rows = JSON.parse(out) as Array<{ _source: { layers: { frame: { 'frame.number': string }; tcp: { 'tcp.stream': string }; audiolab: Pdu | Pdu[] } } }>;
  return rows.map((r) => {
    const l = r._source.layers;
    return { frame: Number(l.frame['frame.number']), stream: Number(l.tcp['tcp.stream']), pdus: Array.isArray(l.audiolab) ? l.audiolab : [l.audiolab] };
  });
}

const count = (file: string, filter: string): number => {
  const out = execFileSync('tshark', ['-X', `lua_script:${LUA}`, '-r', file, '-Y', filter], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  return out.split('\n').filter((l) => l.trim()).length;
};

let run: LocalLabResult;

beforeAll(async () => {
  // the lab's port is not the registered one (5050): the heuristic finds the protocol
  run = await runLocalLab({ runsDir: await tempDir('audiolab-dissector-'), port: 5064, capture: 'tcpdump' });
}, 120_000);

describe('Wireshark dissector', () => {
  it('is generated from the protocol definition and up to date (npm run docs)', async () => {
    expect(await readFile(LUA, 'utf8')).toBe(luaDissector());
  });

  it('decodes every message of a lab capture: no malformed packets, no Lua errors, counts equal our analysis', () => {
    expect(run.failures).toEqual([]); // (the reasons, when the lab run failed)
    expect(run.ok).toBe(true);
    const file = run.capture;
    expect(count(file, '_ws.malformed || _ws.lua.error || audiolab.bad_header || audiolab.unknown_type || audiolab.bad_json || audiolab.missing_field || audiolab.bad_field')).toBe(0);
    const pkts = tsharkAudiolab(file);
    const theirs: Record<string, number> = {};
    for (const p of pkts) for (const d of p.pdus) theirs[d['audiolab.message']] = (theirs[d['audiolab.message']] ?? 0) + 1;
    expect(theirs).toEqual(run.analysis.app.messageCounts);
    expect(theirs.DATA).toBeGreaterThan(50);
  });

  it('shows the relay: the same chunk enters the server from client-a and leaves it for client-b', () => {
    const relay = run.analysis.app.relays.find((r) => r.kind === 'relay')!;
    const inS = run.analysis.app.streams.find((s) => s.id === relay.inStream)!;
    const outS = run.analysis.app.streams.find((s) => s.id === relay.outStream)!;
    const pkts = tsharkAudiolab(run.capture);
    const chunkAt = (conn: number, streamId: number, offset: number): { frame: number; data: string } | undefined => {
      for (const p of pkts) {
        if (p.stream !== conn) continue;
        const d = p.pdus.find((x) => x['audiolab.message'] === 'DATA' && Number(x['audiolab.stream_id']) === streamId && Number(x['audiolab.offset']) === offset);
        if (d) return { frame: p.frame, data: d['audiolab.data']! };
      }
      return undefined;
    };
    const middle = Math.floor(inS.size / 2 / 16384) * 16384;
    const a = chunkAt(inS.conn, inS.streamId, middle);
    const b = chunkAt(outS.conn, outS.streamId, middle);
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(a!.data.length).toBeGreaterThan(1000);
    expect(b!.data).toBe(a!.data);
    expect(b!.frame).toBeGreaterThan(a!.frame); // it leaves after it arrived
  });

  it('flags a malformed frame with expert info instead of failing', async () => {
    // a hand-made connection: a valid HELLO, then a LIST whose payload is not JSON
    const hello = encodeToBuffer({ type: 'HELLO', versions: [1], name: 'x' });
    const bad = Buffer.from([0x41, 0x4c, 1, 0x10, 0, 0, 0, 3, 0x7b, 0x21, 0x7d]);
    const seg = (seq: number, payload: Buffer): Buffer => {
      const ip = Buffer.alloc(20);
      ip[0] = 0x45; ip.writeUInt16BE(20 + 20 + payload.length, 2); ip[8] = 64; ip[9] = 6;
      ip.set([10, 0, 0, 1], 12); ip.set([10, 0, 0, 2], 16);
      const tcp = Buffer.alloc(20);
      tcp.writeUInt16BE(40000, 0); tcp.writeUInt16BE(5050, 2); tcp.writeUInt32BE(seq, 4); tcp.writeUInt32BE(1, 8);
      tcp[12] = 0x50; tcp[13] = 0x18; tcp.writeUInt16BE(65535, 14);
      const eth = Buffer.alloc(14); eth.writeUInt16BE(0x0800, 12);
      return Buffer.concat([eth, ip, tcp, payload]);
    };
    const file = join(await tempDir('audiolab-bad-'), 'bad.pcap');
    await writeFile(file, writePcap([{ sec: 1, nsec: 0, data: seg(1, hello), origlen: 54 + hello.length, linktype: 1 }, { sec: 1, nsec: 1000, data: seg(1 + hello.length, bad), origlen: 54 + bad.length, linktype: 1 }]));
    expect(count(file, 'audiolab.bad_json')).toBe(1);
    expect(count(file, 'audiolab.message == "HELLO"')).toBe(1);
  });
});
