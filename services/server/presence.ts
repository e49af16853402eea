/**
 * Who is online, as the server tells it: every change is numbered (seq) and goes out in rounds, at
 * most one every PRESENCE_INTERVAL_MS, the first after a quiet spell at once. A round is encoded
 * once and the same bytes go to every client: up to PRESENCE_DETAIL changes as PRESENCE deltas,
 * more as one ONLINE count. So a join costs the server O(1) plus its share of a round, and a storm
 * of joins costs each client a few small frames a second, however many are online.
 *
 * A client skips changes whose seq its WELCOME or CLIENTS already reflects (a round goes out after
 * the WELCOMEs of those who joined in it).
 */
import { encodeMessage, PRESENCE_DETAIL, PRESENCE_INTERVAL_MS, type ClientInfo } from '../protocol/index.ts';
import type { Connection } from '../common/connection.ts';

export type PresenceEvent = 'join' | 'leave' | 'listen';

export class PresenceFeed {
  /** The number of the last change. */
  seq = 0;
  private round: Buffer[] = [];
  private changes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastRound = -Infinity;

  private readonly recipients: () => Iterable<Connection>;
  private readonly online: () => number;
  private readonly intervalMs: number;
  private readonly detail: number;

  /**
   * @param recipients the connections a round goes to, when it goes
   * @param online how many are online now
   */
  constructor(recipients: () => Iterable<Connection>, online: () => number, intervalMs = PRESENCE_INTERVAL_MS, detail = PRESENCE_DETAIL) {
    this.recipients = recipients;
    this.online = online;
    this.intervalMs = intervalMs;
    this.detail = detail;
  }

  /** Records a change (already made to the registry); returns its seq. */
  publish(event: PresenceEvent, client: ClientInfo): number {
    const seq = ++this.seq;
    this.changes++;
    // past the detail limit the round becomes a count: its deltas are not kept
    if (this.changes <= this.detail) this.round.push(...encodeMessage({ type: 'PRESENCE', event, client, online: this.online(), seq }));
    else this.round.length = 0;
    if (!this.timer) {
      // never at once: the change's own WELCOME (sent after publish) must reach its client first
      const wait = Math.max(0, this.lastRound + this.intervalMs - performance.now());
      this.timer = setTimeout(() => this.flush(), wait);
    }
    return seq;
  }

  /** Sends the round now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.changes === 0) return;
    const bytes = this.changes <= this.detail
      ? Buffer.concat(this.round)
      : Buffer.concat(encodeMessage({ type: 'ONLINE', online: this.online(), changes: this.changes, seq: this.seq }));
    this.round = [];
    this.changes = 0;
    this.lastRound = performance.now();
    for (const conn of this.recipients()) conn.sendEncoded([bytes]);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
