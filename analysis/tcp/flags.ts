/**
 * The flag catalogue of the TCP analysis: the bits a rule (rules.ts) sets on a packet, our JSON
 * names for them, and the Wireshark display filter each name counts, so a user can check any
 * count with `tcp.analysis.<flag>`.
 */

export const A = {
  RETRANSMISSION: 0x0001,
  LOST_PACKET: 0x0002,
  ACK_LOST_PACKET: 0x0004,
  KEEP_ALIVE: 0x0008,
  DUPLICATE_ACK: 0x0010,
  ZERO_WINDOW: 0x0020,
  ZERO_WINDOW_PROBE: 0x0040,
  ZERO_WINDOW_PROBE_ACK: 0x0080,
  KEEP_ALIVE_ACK: 0x0100,
  OUT_OF_ORDER: 0x0200,
  FAST_RETRANSMISSION: 0x0400,
  WINDOW_UPDATE: 0x0800,
  WINDOW_FULL: 0x1000,
  REUSED_PORTS: 0x2000,
  SPURIOUS_RETRANSMISSION: 0x4000,
} as const;

/** Our JSON flag names, each with the Wireshark display filter whose frames it counts. */
export const FLAG_FILTERS = {
  retransmission: 'tcp.analysis.retransmission',
  fastRetransmission: 'tcp.analysis.fast_retransmission',
  spuriousRetransmission: 'tcp.analysis.spurious_retransmission',
  outOfOrder: 'tcp.analysis.out_of_order',
  lostSegment: 'tcp.analysis.lost_segment',
  ackedUnseen: 'tcp.analysis.ack_lost_segment',
  dupAck: 'tcp.analysis.duplicate_ack',
  zeroWindow: 'tcp.analysis.zero_window',
  zeroWindowProbe: 'tcp.analysis.zero_window_probe',
  windowFull: 'tcp.analysis.window_full',
  windowUpdate: 'tcp.analysis.window_update',
  keepAlive: 'tcp.analysis.keep_alive',
} as const;
export type FlagName = keyof typeof FLAG_FILTERS;

/** A zero count for every flag, in FLAG_FILTERS' order (a literal: much cheaper than building it per direction). */
export function zeroFlagCounts(): Record<FlagName, number> {
  return {
    retransmission: 0, fastRetransmission: 0, spuriousRetransmission: 0, outOfOrder: 0, lostSegment: 0, ackedUnseen: 0,
    dupAck: 0, zeroWindow: 0, zeroWindowProbe: 0, windowFull: 0, windowUpdate: 0, keepAlive: 0,
  };
}
export const FLAG_NAMES = Object.keys(FLAG_FILTERS) as FlagName[];

/**
 * Which flag bits make a frame match each display filter. Wireshark adds the expert item
 * tcp.analysis.retransmission to fast and spurious retransmissions as well.
 */
export const FLAG_BITS: Record<FlagName, number> = {
  retransmission: A.RETRANSMISSION | A.FAST_RETRANSMISSION | A.SPURIOUS_RETRANSMISSION,
  fastRetransmission: A.FAST_RETRANSMISSION,
  spuriousRetransmission: A.SPURIOUS_RETRANSMISSION,
  outOfOrder: A.OUT_OF_ORDER,
  lostSegment: A.LOST_PACKET,
  ackedUnseen: A.ACK_LOST_PACKET,
  dupAck: A.DUPLICATE_ACK,
  zeroWindow: A.ZERO_WINDOW,
  zeroWindowProbe: A.ZERO_WINDOW_PROBE,
  windowFull: A.WINDOW_FULL,
  windowUpdate: A.WINDOW_UPDATE,
  keepAlive: A.KEEP_ALIVE,
};
