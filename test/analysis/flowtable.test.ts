/**
 * The tracker's flow table: both directions of a flow find the same connection and say which side
 * sent the packet; a new connection on the same addresses and ports replaces the old one; the table
 * grows past its first size without losing a flow; IPv6 flows too.
 */
import { describe, expect, it } from 'vitest';
import { FlowTable } from '../../analysis/tcp/flowtable.ts';

const ip = (i: number): number => (0xc6120000 + i) >>> 0; // 198.18.x.y

describe('FlowTable', () => {
  it('finds a flow from either side, and knows which side sent', () => {
    const t = new FlowTable(16);
    expect(t.find4(ip(1), 40000, ip(2), 5050)).toBe(-1);
    t.set4(ip(1), 40000, ip(2), 5050, 7);
    expect(t.find4(ip(1), 40000, ip(2), 5050)).toBe(7);
    expect(t.fromA).toBe(true);
    expect(t.find4(ip(2), 5050, ip(1), 40000)).toBe(7);
    expect(t.fromA).toBe(false);
    // same addresses, other ports: another flow
    expect(t.find4(ip(1), 40001, ip(2), 5050)).toBe(-1);
    expect(t.find4(ip(1), 5050, ip(2), 40000)).toBe(-1);
  });

  it('a reused port pair points at the newest connection, with its own sides', () => {
    const t = new FlowTable(16);
    t.set4(ip(1), 40000, ip(2), 5050, 0);
    // the new connection's first packet comes from the old B side
    t.set4(ip(2), 5050, ip(1), 40000, 1);
    expect(t.find4(ip(2), 5050, ip(1), 40000)).toBe(1);
    expect(t.fromA).toBe(true);
    expect(t.find4(ip(1), 40000, ip(2), 5050)).toBe(1);
    expect(t.fromA).toBe(false);
  });

  it('grows past its first size and keeps every flow and its sides', () => {
    const t = new FlowTable(16);
    const n = 5000;
    for (let i = 0; i < n; i++) {
      // half the flows stored from the high endpoint's side
      if (i % 2) t.set4(ip(2), 5050, ip(i + 10), 30000 + (i % 20000), i);
      else t.set4(ip(i + 10), 30000 + (i % 20000), ip(2), 5050, i);
    }
    for (let i = 0; i < n; i++) {
      expect(t.find4(ip(i + 10), 30000 + (i % 20000), ip(2), 5050)).toBe(i);
      expect(t.fromA).toBe(i % 2 === 0);
      expect(t.find4(ip(2), 5050, ip(i + 10), 30000 + (i % 20000))).toBe(i);
      expect(t.fromA).toBe(i % 2 === 1);
    }
  });

  it('a flow to itself (same address and port on both sides) is one flow', () => {
    const t = new FlowTable(16);
    t.set4(ip(1), 5000, ip(1), 5000, 3);
    expect(t.find4(ip(1), 5000, ip(1), 5000)).toBe(3);
    expect(t.fromA).toBe(true);
  });

  it('IPv6 flows', () => {
    const t = new FlowTable(16);
    t.set6('2001:db8::1', 40000, '2001:db8::2', 5050, 4);
    expect(t.find6('2001:db8::2', 5050, '2001:db8::1', 40000)).toBe(4);
    expect(t.fromA).toBe(false);
    expect(t.find6('2001:db8::1', 40000, '2001:db8::2', 5050)).toBe(4);
    expect(t.fromA).toBe(true);
    expect(t.find6('2001:db8::1', 40001, '2001:db8::2', 5050)).toBe(-1);
  });
});
