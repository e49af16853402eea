/**
 * One client's conversation with the server: the protocol state machine on the server side.
 *
 *   connected --HELLO--> ready --(LIST | PLAY | UPLOAD | LISTEN | PLAY_ON | SEND_TO | ...)*--> closed
 *
 * Streams this session takes part in:
 * - plays:     the server streams a library file to this client (PLAY, or PLAY_ON from someone else)
 * - uploads:   this client streams a file into the library (UPLOAD)
 * - relaysOut: this client streams its own file to another client through the server (SEND_TO)
 * - relaysIn:  this client receives a relayed stream
 * When either end of a stream vanishes, the other end gets a coded error and the stream's state is
 * dropped; an upload's temporary file is removed.
 *
 * This module dispatches the messages and keeps the plays; uploads.ts and relays.ts handle those.
 */
import { AudioLabError, isWireErrorCode, toAudioLabError, type ErrorCode } from '../protocol/errors.ts';
import type { Connection } from '../common/connection.ts';
import type { Logger } from '../common/log.ts';
import { MAX_STREAMS_PER_CLIENT, pagesOf, REALTIME_LEAD_MS, SUPPORTED_VERSIONS, WELCOME_CLIENTS, type ClientInfo, type Message, type MessageOf, type AudioFormat } from '../protocol/index.ts';
import { cleanClientName } from './names.ts';
import { streamFile } from './streamer.ts';
import { byteRateOf } from '../common/wav.ts';
import { endUpload, startUpload, uploadData, type Upload } from './uploads.ts';
import { dropRelay, endRelay, forwardRelay, startRelay, type Relay } from './relays.ts';
import type { AudioLabServer } from './server.ts';

/** Malformed messages in a row after which a connection is closed. */
const MAX_BAD_IN_A_ROW = 16;
export const SHA256_RE = /^[0-9a-f]{64}$/;

/** A real-time receiver's pace: the song's byte rate, REALTIME_LEAD_MS ahead. */
function paceOf(format: AudioFormat): { bytesPerSecond: number; leadBytes: number } {
  const bytesPerSecond = byteRateOf(format);
  return { bytesPerSecond, leadBytes: Math.ceil((bytesPerSecond * REALTIME_LEAD_MS) / 1000) };
}

/** What a client is told of an error: an internal failure's message may hold the server's paths, so it gets the code only. */
export function publicMessage(err: AudioLabError): string {
  return err.code === 'AUDIOLAB_ERR_INTERNAL' ? 'Internal server error (the server log has the details)' : err.message;
}

export type InviteAnswer = { kind: 'accept' } | { kind: 'refuse'; reason: string } | { kind: 'gone' } | { kind: 'timeout' };
type ReceiptAnswer = { kind: 'received'; bytes: number } | { kind: 'aborted'; code: string; message: string } | { kind: 'gone' } | { kind: 'timeout' };

export class Session {
  readonly server: AudioLabServer;
  readonly conn: Connection;
  readonly info: ClientInfo;
  ready = false;
  // open to this session's stream handlers (uploads.ts, relays.ts)
  log: Logger;
  readonly uploads = new Map<number, Upload>();
  readonly relaysOut = new Map<number, Relay>();
  readonly relaysIn = new Map<number, Relay>();
  /** Streams that failed: late DATA for them is dropped quietly. */
  readonly deadStreams = new Set<number>();
  private readonly openedAt = Date.now();
  private readonly plays = new Map<number, AbortController>();
  private readonly invites = new Map<number, (a: InviteAnswer) => void>();
  /** Senders waiting for this (receiving) session's RECEIVED, by stream id. */
  private readonly receipts = new Map<number, (a: ReceiptAnswer) => void>();
  private pauses = 0;
  private helloTimer: NodeJS.Timeout | undefined;
  /** Malformed messages since the last good one. */
  private badInARow = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(server: AudioLabServer, conn: Connection, id: number) {
    this.server = server;
    this.conn = conn;
    this.info = { id, name: `client${id}`, address: conn.peer, listening: false };
    this.log = server.log.child({ client: id, peer: conn.peer });
    this.log.info('conn.open', {});
    // Two clocks, restarted by progress (a whole message), never by a byte: HELLO must come within
    // helloTimeoutMs of connecting, and then a message at least every idleTimeoutMs. Dribbling
    // bytes, or sending frames that do not decode, keeps no slot.
    this.helloTimer = setTimeout(() => {
      this.log.warn('conn.hello_timeout', { ms: server.config.helloTimeoutMs });
      conn.fail(new AudioLabError('AUDIOLAB_ERR_HELLO_TIMEOUT', `No HELLO within ${server.config.helloTimeoutMs} ms`));
    }, server.config.helloTimeoutMs);
    this.restartIdleClock();
    conn.on('message', (msg) => {
      this.restartIdleClock();
      this.badInARow = 0;
      this.dispatch(msg).catch((err) => {
        const e = toAudioLabError(err);
        this.log.error('session.error', { code: e.code, error: e.message });
        this.conn.sendError(e.code, publicMessage(e));
      });
    });
    conn.on('overflow', (err) => this.log.warn('conn.overflow', { code: err.code, error: err.message }));
    conn.on('protocolError', (err, fatal) => {
      this.log.warn('protocol.error', { code: err.code, error: err.message, fatal });
      // a peer that sends nothing but frames that do not decode is closed, not answered for ever
      if (!fatal && ++this.badInARow >= MAX_BAD_IN_A_ROW) {
        conn.fail(new AudioLabError(err.code, `${MAX_BAD_IN_A_ROW} malformed messages in a row; the last: ${err.message}`));
        return;
      }
      if (fatal) conn.fail(err);
      else conn.sendError(err.code, err.message);
    });
    conn.on('close', () => this.onClose());
  }

  /** Relays this session offered whose receiver has not answered yet (relays.ts). */
  pendingOffers = 0;

  /** Streams this session takes part in, counting offers to and from it not answered yet: many requests at once cannot pass the limit. */
  private get streamCount(): number {
    return this.plays.size + this.uploads.size + this.relaysOut.size + this.relaysIn.size + this.pendingOffers + this.invites.size;
  }

  private async dispatch(msg: Message): Promise<void> {
    if (!this.ready && msg.type !== 'HELLO') {
      this.conn.fail(new AudioLabError('AUDIOLAB_ERR_UNEXPECTED_MESSAGE', `${msg.type} before HELLO`));
      return;
    }
    switch (msg.type) {
      case 'HELLO': return this.onHello(msg);
      case 'PING': this.conn.send({ type: 'PONG', t: msg.t }); return;
      case 'PONG': return;
      case 'BYE': this.log.info('conn.bye', { reason: msg.reason }); this.conn.socket.end(); return;
      case 'LIST': return this.sendPages(pagesOf(this.server.catalog.list()), (songs, more) => ({ type: 'CATALOG', req: msg.req, songs, ...(more ? { more } : {}) }));
      case 'PLAY': return this.onPlay(msg);
      case 'RECEIVED': this.receipts.get(msg.streamId)?.({ kind: 'received', bytes: msg.bytes }); return;
      case 'PLAYED': this.log.info('song.played', { song: msg.song, source: msg.source }); return;
      case 'UPLOAD': return startUpload(this, msg);
      case 'DATA': return this.onData(msg);
      case 'STREAM_END': return this.onStreamEnd(msg);
      case 'STREAM_ABORT': return this.onStreamAbort(msg);
      case 'LISTEN': return this.onListen(msg);
      case 'WHO': return this.onWho(msg);
      case 'PLAY_ON': return this.onPlayOn(msg);
      case 'SEND_TO': return startRelay(this, msg);
      case 'ACCEPT': this.invites.get(msg.streamId)?.({ kind: 'accept' }); return;
      case 'REFUSE': this.invites.get(msg.streamId)?.({ kind: 'refuse', reason: msg.reason }); return;
      case 'ERROR': this.log.warn('client.error', { code: msg.code, error: msg.message }); return;
      default:
        this.conn.sendError('AUDIOLAB_ERR_UNEXPECTED_MESSAGE', `${msg.type} is not sent by clients`);
    }
  }

  private onHello(msg: MessageOf<'HELLO'>): void {
    if (this.ready) {
      this.conn.sendError('AUDIOLAB_ERR_UNEXPECTED_MESSAGE', 'HELLO twice');
      return;
    }
    const common = msg.versions.filter((v) => SUPPORTED_VERSIONS.includes(v));
    if (common.length === 0) {
      this.conn.fail(new AudioLabError('AUDIOLAB_ERR_UNSUPPORTED_VERSION', `None of versions ${msg.versions.join(', ')} is supported (server: ${SUPPORTED_VERSIONS.join(', ')})`));
      return;
    }
    this.info.name = this.server.claimName(this, cleanClientName(msg.name));
    this.ready = true;
    clearTimeout(this.helloTimer);
    this.log = this.server.log.child({ client: this.info.id, name: this.info.name, peer: this.conn.peer });
    const seq = this.server.joined(this);
    const online = this.server.onlineCount;
    const others = online - 1;
    this.conn.send({
      type: 'WELCOME', version: Math.max(...common), clientId: this.info.id, name: this.info.name,
      clients: this.server.firstClients(this, WELCOME_CLIENTS), online, seq,
      motd: `${this.server.config.motd}, ${this.info.name}! ${others === 0 ? 'No one else is' : others === 1 ? '1 other client is' : `${others} other clients are`} online.`,
    });
    this.log.info('client.hello', { software: msg.software, version: Math.max(...common), online });
  }

  /** WHO: the whole list of who is online, in pages sent at once (no change can come between them). */
  private onWho(msg: MessageOf<'WHO'>): void {
    const seq = this.server.presence.seq;
    this.sendPages(pagesOf(this.server.clients()), (clients, more) => ({ type: 'CLIENTS', req: msg.req, clients, more, seq }));
  }

  /** Sends a list's pages, each as the message `make` builds; `more` is true on all but the last. */
  private sendPages<T>(pages: T[][], make: (page: T[], more: boolean) => Message): void {
    for (const [i, page] of pages.entries()) this.conn.send(make(page, i < pages.length - 1));
  }

  checkBusy(req: number): boolean {
    if (this.streamCount >= MAX_STREAMS_PER_CLIENT) {
      this.conn.sendError('AUDIOLAB_ERR_BUSY', `At most ${MAX_STREAMS_PER_CLIENT} streams at once`, { req });
      return true;
    }
    return false;
  }

  // ---- PLAY: a library song to this client -------------------------------------------------------

  private async onPlay(msg: MessageOf<'PLAY'>): Promise<void> {
    const entry = this.server.catalog.get(msg.song);
    if (!entry) return this.reject(msg.req, 'AUDIOLAB_ERR_NO_SUCH_SONG', `No song named ${JSON.stringify(msg.song)}`);
    if (msg.offset > entry.info.size) return this.reject(msg.req, 'AUDIOLAB_ERR_BAD_OFFSET', `Offset ${msg.offset} beyond the song's ${entry.info.size} bytes`);
    if (this.checkBusy(msg.req)) return;
    const streamId = this.server.allocateStreamId();
    await this.sendLibrarySong(streamId, 'play', entry.info.name, msg.offset, undefined, msg.req, msg.realtime === true);
  }

  /** Streams a library song to this session; used by PLAY and by PLAY_ON from another client. */
  async sendLibrarySong(streamId: number, kind: 'play' | 'play-on', song: string, offset: number, from?: string, req?: number, realtime = false): Promise<number> {
    const entry = this.server.catalog.get(song);
    if (!entry) throw new AudioLabError('AUDIOLAB_ERR_NO_SUCH_SONG', `No song named ${JSON.stringify(song)}`);
    const i = entry.info;
    const ac = new AbortController();
    this.plays.set(streamId, ac);
    const t0 = performance.now();
    this.conn.send({
      type: 'STREAM_START', streamId, kind, song: i.name, size: i.size, offset, sha256: i.sha256,
      format: entry.wav.format, ...(req === undefined ? {} : { req }), ...(from === undefined ? {} : { from }),
    });
    this.log.info('stream.start', { streamId, kind, song: i.name, offset, size: i.size, from, realtime });
    try {
      const bytes = await streamFile(this.conn, { path: entry.path, size: i.size, sha256: i.sha256, cache: this.server.blocks, streamId, offset, chunkSize: this.server.config.chunkSize, signal: ac.signal, stallMs: this.server.config.streamStallMs, ...(realtime ? { pace: paceOf(entry.wav.format) } : {}) });
      this.conn.send({ type: 'STREAM_END', streamId, bytes, sha256: i.sha256 });
      const ms = performance.now() - t0;
      this.log.info('stream.end', { streamId, kind, song: i.name, bytes, ms: Math.round(ms), mbps: +((bytes * 8) / ms / 1000).toFixed(1) });
      return bytes;
    } catch (err) {
      const e = toAudioLabError(err);
      this.log.warn('stream.abort', { streamId, kind, song: i.name, code: e.code, error: e.message });
      if (!this.conn.isClosed) this.conn.send({ type: 'STREAM_ABORT', streamId, code: e.code, message: e.message });
      throw e;
    } finally {
      this.plays.delete(streamId);
    }
  }

  // ---- DATA and STREAM_END: an upload's or a relay's -------------------------------------------------

  private onData(msg: MessageOf<'DATA'>): void {
    const up = this.uploads.get(msg.streamId);
    if (up) return uploadData(this, msg.streamId, up, msg);
    const relay = this.relaysOut.get(msg.streamId);
    if (relay) return forwardRelay(this, relay, msg);
    if (this.deadStreams.has(msg.streamId)) return;
    this.conn.sendError('AUDIOLAB_ERR_UNEXPECTED_MESSAGE', `DATA for unknown stream ${msg.streamId}`, { streamId: msg.streamId });
    this.deadStreams.add(msg.streamId);
  }

  private async onStreamEnd(msg: MessageOf<'STREAM_END'>): Promise<void> {
    const up = this.uploads.get(msg.streamId);
    if (up) return endUpload(this, msg.streamId, up);
    const relay = this.relaysOut.get(msg.streamId);
    if (relay) return endRelay(this, relay, msg);
    if (!this.deadStreams.has(msg.streamId)) this.conn.sendError('AUDIOLAB_ERR_UNEXPECTED_MESSAGE', `STREAM_END for unknown stream ${msg.streamId}`, { streamId: msg.streamId });
  }

  private async onStreamAbort(msg: MessageOf<'STREAM_ABORT'>): Promise<void> {
    const up = this.uploads.get(msg.streamId);
    if (up) {
      this.uploads.delete(msg.streamId);
      this.deadStreams.add(msg.streamId);
      await up.writer.abort();
      this.log.info('upload.cancel', { streamId: msg.streamId, code: msg.code });
      return;
    }
    const relay = this.relaysOut.get(msg.streamId);
    if (relay) {
      dropRelay(relay);
      relay.target.conn.send({ type: 'STREAM_ABORT', streamId: relay.idB, code: msg.code, message: `Sender aborted: ${msg.message}` });
      return;
    }
    // A receiver aborting a stream it gets: a play, or a relay into it.
    this.plays.get(msg.streamId)?.abort(new AudioLabError('AUDIOLAB_ERR_REFUSED', 'Receiver aborted the stream'));
    const inRelay = this.relaysIn.get(msg.streamId);
    if (inRelay) {
      dropRelay(inRelay);
      inRelay.source.conn.sendError('AUDIOLAB_ERR_REFUSED', `Receiver aborted: ${msg.message}`, { req: inRelay.req, streamId: inRelay.idA });
    }
    // after STREAM_END: the receiver found the stream broken (size or sha256), or gave up on it
    this.receipts.get(msg.streamId)?.({ kind: 'aborted', code: msg.code, message: msg.message });
  }

  /**
   * Waits until this (receiving) session confirms with RECEIVED that it has every byte of a pushed
   * stream whose STREAM_END was just sent; resolves with the error for its sender, or null. Called in
   * the turn that sent STREAM_END, so the answer cannot come first. A receiver that plays at the
   * song's pace reads the last bytes about a song's length after they were sent: it has that long
   * plus the stall timeout.
   */
  delivered(streamId: number, size: number, format: AudioFormat): Promise<AudioLabError | null> {
    const byteRate = byteRateOf(format);
    const withinMs = this.server.config.streamStallMs + (byteRate > 0 ? Math.ceil((size / byteRate) * 1000) : 0);
    const who = this.info.name;
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer({ kind: 'timeout' }), withinMs);
      const answer = (a: ReceiptAnswer): void => {
        clearTimeout(timer);
        this.receipts.delete(streamId);
        if (a.kind === 'received') resolve(a.bytes === size ? null : new AudioLabError('AUDIOLAB_ERR_SIZE_MISMATCH', `${who} confirmed ${a.bytes} of ${size} bytes`));
        else if (a.kind === 'aborted') resolve(new AudioLabError(isWireErrorCode(a.code) ? a.code : 'AUDIOLAB_ERR_REFUSED', `${who} did not keep the stream: ${a.message}`));
        else if (a.kind === 'gone') resolve(new AudioLabError('AUDIOLAB_ERR_PEER_GONE', `${who} disconnected before confirming it had everything`));
        else resolve(new AudioLabError('AUDIOLAB_ERR_TIMEOUT', `${who} did not confirm it had everything within ${withinMs} ms`));
      };
      this.receipts.set(streamId, answer);
      if (this.conn.isClosed) answer({ kind: 'gone' });
    });
  }

  // ---- LISTEN, PLAY_ON, SEND_TO ------------------------------------------------------------------

  private onListen(msg: MessageOf<'LISTEN'>): void {
    this.info.listening = msg.accept;
    this.conn.send({ type: 'OK', req: msg.req, status: msg.accept ? 'listening' : 'not listening' });
    this.log.info('client.listen', { accept: msg.accept });
    this.server.changed('listen', this.info);
  }

  /** Finds a receiver for PLAY_ON / SEND_TO, or answers the request with the reason there is none. */
  findReceiver(req: number, target: string): Session | undefined {
    const t = this.server.findPeer(target);
    if (!t) this.reject(req, 'AUDIOLAB_ERR_NO_SUCH_CLIENT', `No client named ${JSON.stringify(target)} or at that address is online`);
    else if (t === this) this.reject(req, 'AUDIOLAB_ERR_NO_SUCH_CLIENT', `${target} is you: name another client (the clients online are shown on connecting)`);
    else if (!t.info.listening) this.reject(req, 'AUDIOLAB_ERR_NOT_LISTENING', `${t.info.name} does not accept streams (it has to run listen, or choose Listen in the menu)`);
    else if (t.streamCount >= MAX_STREAMS_PER_CLIENT) this.reject(req, 'AUDIOLAB_ERR_BUSY', `${target} is receiving too many streams`);
    else return t;
    return undefined;
  }

  /** Asks this (receiving) session whether it takes a stream. */
  invite(inv: { streamId: number; kind: string; from: string; song: string; size: number; sha256: string; format: AudioFormat }): Promise<InviteAnswer> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer({ kind: 'timeout' }), this.server.config.inviteTimeoutMs);
      const answer = (a: InviteAnswer): void => {
        clearTimeout(timer);
        this.invites.delete(inv.streamId);
        resolve(a);
      };
      this.invites.set(inv.streamId, answer);
      if (!this.conn.send({ type: 'INVITE', ...inv }) && this.conn.isClosed) answer({ kind: 'gone' });
    });
  }

  answerToError(req: number, target: string, a: InviteAnswer): boolean {
    if (a.kind === 'accept') return false;
    if (a.kind === 'refuse') this.reject(req, 'AUDIOLAB_ERR_REFUSED', `${target} refused: ${a.reason}`);
    else if (a.kind === 'gone') this.reject(req, 'AUDIOLAB_ERR_PEER_GONE', `${target} disconnected`);
    else this.reject(req, 'AUDIOLAB_ERR_TIMEOUT', `${target} did not answer within ${this.server.config.inviteTimeoutMs} ms`);
    return true;
  }

  private async onPlayOn(msg: MessageOf<'PLAY_ON'>): Promise<void> {
    const entry = this.server.catalog.get(msg.song);
    if (!entry) return this.reject(msg.req, 'AUDIOLAB_ERR_NO_SUCH_SONG', `No song named ${JSON.stringify(msg.song)}`);
    const target = this.findReceiver(msg.req, msg.target);
    if (!target) return;
    const streamId = this.server.allocateStreamId();
    const i = entry.info;
    this.log.info('playon.invite', { streamId, target: target.info.name, song: i.name });
    const answer = await target.invite({ streamId, kind: 'play-on', from: this.info.name, song: i.name, size: i.size, sha256: i.sha256, format: entry.wav.format });
    if (this.answerToError(msg.req, target.info.name, answer)) return;
    try {
      const bytes = await target.sendLibrarySong(streamId, 'play-on', i.name, 0, this.info.name);
      const failed = await target.delivered(streamId, i.size, entry.wav.format);
      if (failed) throw failed;
      this.conn.send({ type: 'OK', req: msg.req, streamId, bytes, status: 'played' });
    } catch (err) {
      const e = toAudioLabError(err);
      this.reject(msg.req, e.code, `Play on ${target.info.name} failed: ${e.message}`, streamId);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------------

  reject(req: number, code: ErrorCode, message: string, streamId?: number): void {
    this.log.info('request.error', { req, code, error: message });
    this.conn.sendError(code, message, { req, ...(streamId === undefined ? {} : { streamId }) });
  }

  pause(): void {
    if (this.pauses++ === 0) this.conn.pause();
  }

  resume(): void {
    if (this.pauses > 0 && --this.pauses === 0) this.conn.resume();
  }

  async shutdown(): Promise<void> {
    for (const ac of this.plays.values()) ac.abort(new AudioLabError('AUDIOLAB_ERR_SHUTTING_DOWN'));
    await Promise.all([...this.uploads.values()].map((u) => u.writer.abort()));
    this.uploads.clear();
    this.conn.fail(new AudioLabError('AUDIOLAB_ERR_SHUTTING_DOWN', 'The server is shutting down'));
  }

  private restartIdleClock(): void {
    clearTimeout(this.idleTimer);
    const ms = this.server.config.idleTimeoutMs;
    this.idleTimer = setTimeout(() => {
      // a client receiving or sending a stream is busy, not idle (a real-time play lasts the song); a stream that stops moving has its own stall clock
      if (this.streamCount > 0) return this.restartIdleClock();
      this.log.warn('conn.idle', { idleMs: ms });
      this.conn.fail(new AudioLabError('AUDIOLAB_ERR_IDLE_TIMEOUT', `No message for ${ms} ms`));
    }, ms);
  }

  private onClose(): void {
    clearTimeout(this.helloTimer);
    clearTimeout(this.idleTimer);
    for (const ac of this.plays.values()) ac.abort(new AudioLabError('AUDIOLAB_ERR_PEER_GONE', 'Receiver disconnected'));
    for (const up of this.uploads.values()) {
      void up.writer.abort();
      this.log.warn('upload.fail', { song: up.writer.spec.name, code: 'AUDIOLAB_ERR_PEER_GONE', received: up.writer.received });
    }
    this.uploads.clear();
    for (const relay of [...this.relaysOut.values()]) {
      dropRelay(relay);
      relay.target.conn.send({ type: 'STREAM_ABORT', streamId: relay.idB, code: 'AUDIOLAB_ERR_PEER_GONE', message: `${this.info.name} disconnected mid-relay` });
      this.log.warn('relay.fail', { idA: relay.idA, code: 'AUDIOLAB_ERR_PEER_GONE', side: 'source' });
    }
    for (const relay of [...this.relaysIn.values()]) {
      dropRelay(relay);
      relay.source.conn.sendError('AUDIOLAB_ERR_PEER_GONE', `${this.info.name} disconnected mid-relay`, { req: relay.req, streamId: relay.idA });
      this.log.warn('relay.fail', { idA: relay.idA, code: 'AUDIOLAB_ERR_PEER_GONE', side: 'target' });
    }
    for (const answer of [...this.invites.values()]) answer({ kind: 'gone' });
    for (const answer of [...this.receipts.values()]) answer({ kind: 'gone' });
    this.log.info('conn.close', { bytesIn: this.conn.bytesIn, bytesOut: this.conn.bytesOut, ms: Date.now() - this.openedAt });
  }
}
