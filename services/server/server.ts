/**
 * The audiolab server: accepts clients, keeps the registry of who is online and the catalog, and
 * hands each connection to a Session (session.ts) that speaks the protocol.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AudioLabError } from '../protocol/errors.ts';
import { Connection, DEFAULT_MAX_QUEUED_BYTES } from '../common/connection.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { DEFAULT_CHUNK_SIZE, DEFAULT_PORT, encodeMessage, pagesOf, type ClientInfo } from '../protocol/index.ts';
import { PresenceFeed, type PresenceEvent } from './presence.ts';
import { Catalog } from './catalog.ts';
import { BlockCache } from './blocks.ts';
import { Session } from './session.ts';
import { DEFAULT_STALL_MS } from './streamer.ts';

export interface ServerOptions {
  port?: number;
  host?: string;
  musicDir: string;
  maxClients?: number;
  idleTimeoutMs?: number;
  maxUploadBytes?: number;
  chunkSize?: number;
  /** How long a receiver has to answer an INVITE. */
  inviteTimeoutMs?: number;
  /** How long a stream's receiver may take nothing before the stream is aborted (default 30 s). */
  streamStallMs?: number;
  /** How long a new connection has to send HELLO (default 10 s). */
  helloTimeoutMs?: number;
  /** Bytes a client may leave unread before it is dropped (default 8 MiB). */
  maxQueuedBytes?: number;
  logger?: Logger;
  motd?: string;
}

export interface ServerConfig {
  port: number;
  host: string;
  musicDir: string;
  maxClients: number;
  idleTimeoutMs: number;
  maxUploadBytes: number;
  chunkSize: number;
  inviteTimeoutMs: number;
  maxQueuedBytes: number;
  helloTimeoutMs: number;
  streamStallMs: number;
  motd: string;
}

export class AudioLabServer {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly catalog: Catalog;
  /** Song blocks shared by every stream (blocks.ts). */
  readonly blocks = new BlockCache();
  private readonly net: Server;
  private readonly sessions = new Set<Session>();
  /** Ready sessions by name (claimName). */
  private readonly byName = new Map<string, Session>();
  /** Sessions past HELLO and not closed. */
  private readyCount = 0;
  readonly presence = new PresenceFeed(() => this.readyConnections(), () => this.readyCount);
  private nextClientId = 1;
  private nextStreamId = 1;
  private closing = false;

  constructor(options: ServerOptions) {
    this.config = {
      port: options.port ?? DEFAULT_PORT,
      host: options.host ?? '0.0.0.0',
      musicDir: options.musicDir,
      maxClients: options.maxClients ?? 256,
      idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
      maxUploadBytes: options.maxUploadBytes ?? 64 * 1024 * 1024,
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      inviteTimeoutMs: options.inviteTimeoutMs ?? 10_000,
      maxQueuedBytes: options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
      helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
      streamStallMs: options.streamStallMs ?? DEFAULT_STALL_MS,
      motd: options.motd ?? 'Welcome to tcp-audio-lab',
    };
    this.log = options.logger ?? createLogger();
    this.catalog = new Catalog(this.config.musicDir, this.log);
    this.catalog.on('change', (reason) => {
      // each page encoded once, the same bytes to every client
      const pages = pagesOf(this.catalog.list()).map((songs, i, all) => encodeMessage({ type: 'CATALOG', songs, reason, ...(i < all.length - 1 ? { more: true } : {}) }));
      for (const s of this.readySessions()) for (const page of pages) s.conn.sendEncoded(page);
    });
    this.net = createServer((socket) => this.accept(socket));
    this.net.maxConnections = this.config.maxClients + 16; // room to tell the extra ones why
  }

  async listen(): Promise<AddressInfo> {
    await mkdir(this.config.musicDir, { recursive: true });
    // uploads an earlier run left unfinished (killed mid-upload): never finished, never listed
    await rm(join(this.config.musicDir, '.incoming'), { recursive: true, force: true });
    await this.catalog.scan();
    await new Promise<void>((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(this.config.port, this.config.host, () => {
        this.net.off('error', reject);
        resolve();
      });
    });
    const addr = this.net.address() as AddressInfo;
    this.log.info('server.listen', { host: addr.address, port: addr.port, music: this.config.musicDir, songs: this.catalog.list().length });
    return addr;
  }

  private accept(socket: Socket): void {
    const conn = new Connection(socket, { maxQueuedBytes: this.config.maxQueuedBytes });
    if (this.closing) {
      conn.fail(new AudioLabError('AUDIOLAB_ERR_SHUTTING_DOWN'));
      return;
    }
    if (this.sessions.size >= this.config.maxClients) {
      this.log.warn('conn.refused', { peer: conn.peer, reason: 'server full', clients: this.sessions.size });
      conn.fail(new AudioLabError('AUDIOLAB_ERR_SERVER_FULL', `The server holds at most ${this.config.maxClients} clients`));
      return;
    }
    const session = new Session(this, conn, this.nextClientId++);
    this.sessions.add(session);
    conn.on('close', () => {
      this.sessions.delete(session);
      if (session.ready) {
        this.readyCount--;
        this.presence.publish('leave', session.info);
      }
    });
  }

  allocateStreamId(): number {
    return this.nextStreamId++;
  }

  *readySessions(): Iterable<Session> {
    for (const s of this.sessions) if (s.ready && !s.conn.isClosed) yield s;
  }

  private *readyConnections(): Iterable<Connection> {
    for (const s of this.readySessions()) yield s.conn;
  }

  clients(): ClientInfo[] {
    return [...this.readySessions()].map((s) => s.info);
  }

  /** `session` and the first others online, `n` in all, without listing them all. */
  firstClients(session: Session, n: number): ClientInfo[] {
    const out: ClientInfo[] = [session.info];
    for (const s of this.readySessions()) {
      if (out.length >= n) break;
      if (s !== session) out.push(s.info);
    }
    return out;
  }

  /** A session has said HELLO: it counts as online, and everyone is told (returns the change's seq). */
  joined(session: Session): number {
    this.readyCount++;
    return this.presence.publish('join', session.info);
  }

  get onlineCount(): number {
    return this.readyCount;
  }

  /** The client with this name, else the one connected from this address (IP:PORT, as WELCOME and PRESENCE show it). */
  findPeer(nameOrAddress: string): Session | undefined {
    const named = this.byName.get(nameOrAddress);
    if (named && !named.conn.isClosed) return named;
    for (const s of this.readySessions()) if (s.info.address === nameOrAddress) return s;
    return undefined;
  }

  /**
   * Gives a session the name it asked for, or the first free `name-2`, `name-3`…, and holds it
   * until the connection closes. An index, not a scan: a join costs the same with 10 000 online.
   */
  claimName(session: Session, wanted: string): string {
    let name = wanted;
    for (let n = 2; this.byName.has(name); n++) name = `${wanted}-${n}`;
    this.byName.set(name, session);
    session.conn.on('close', () => { if (this.byName.get(name) === session) this.byName.delete(name); });
    return name;
  }

  /** Tells every client of a change to one of them (in the next round, see presence.ts). */
  changed(event: PresenceEvent, client: ClientInfo): void {
    this.presence.publish(event, client);
  }

  /** Bytes the server holds in user space for its clients right now (queued writes + partial frames). */
  bufferedBytes(): number {
    let n = 0;
    for (const s of this.sessions) n += s.conn.socket.writableLength + s.conn.pendingBytes;
    return n;
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  /** Graceful shutdown: refuse new clients, tell everyone (coded error), abort streams, wait for sockets to close. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.log.info('server.shutdown', { clients: this.sessions.size });
    const closed = new Promise<void>((resolve) => this.net.close(() => resolve()));
    const all = [...this.sessions];
    await Promise.all(all.map((s) => s.shutdown()));
    const deadline = Date.now() + graceMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sessions) s.conn.destroy();
    this.presence.close();
    await closed;
    this.log.info('server.closed', {});
  }
}
