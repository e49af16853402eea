/**
 * The audiolab client library: one connection to a server, requests as promises, pushed events
 * (presence, catalog changes, invites) as events, and incoming streams as Readables.
 */
import { connect as netConnect } from 'node:net';
import { EventEmitter, once } from 'node:events';
import { basename } from 'node:path';
import { AudioLabError, isWireErrorCode, toAudioLabError, type ErrorCode } from '../protocol/errors.ts';
import { Connection } from '../common/connection.ts';
import { fileDigest } from '../common/hash.ts';
import { sendFile } from './send-file.ts';
import { parseWavHeader, MAX_HEADER_BYTES } from '../common/wav.ts';
import {
  DEFAULT_CHUNK_SIZE, DEFAULT_PORT, SUPPORTED_VERSIONS,
  type ClientInfo, type Message, type MessageOf, type SongInfo,
} from '../protocol/index.ts';
import { IncomingStream, type StreamHeader } from './incoming.ts';

export interface ClientOptions {
  host?: string;
  port?: number;
  name?: string;
  /** Local address to bind (the local lab binds clients to 127.0.0.11, .12). */
  localAddress?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Keep-alive PING interval while connected (0: none). */
  pingIntervalMs?: number;
  chunkSize?: number;
}

export interface Invite {
  streamId: number;
  kind: string;
  from: string;
  song: string;
  size: number;
  sha256: string;
  format: MessageOf<'INVITE'>['format'];
}

export interface ClientEvents {
  presence: [event: string, client: ClientInfo];
  /** Many changes at once (ONLINE): `online` now; the list held is out of date until who(). */
  online: [online: number, changes: number];
  catalog: [songs: SongInfo[], reason: string];
  /** A stream arrived that no request of ours asked for (play-on, relay). */
  stream: [IncomingStream];
  /** An invited stream was aborted before it started (its sender went away): its place is free. */
  inviteLapsed: [streamId: number];
  close: [error: AudioLabError | undefined];
  /** An unsolicited ERROR from the server (no req). */
  serverError: [AudioLabError];
}

type Pending = { resolve: (m: Message) => void; reject: (e: AudioLabError) => void; timer?: NodeJS.Timeout | undefined; types: readonly string[]; what: string };

export function parseServerAddress(s: string | undefined): { host: string; port: number } {
  if (!s) return { host: '127.0.0.1', port: DEFAULT_PORT };
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(s);
  const port = m?.[2] ? Number(m[2]) : DEFAULT_PORT;
  if (!m || !m[1] || port < 1 || port > 65535) throw new AudioLabError('AUDIOLAB_ERR_USAGE', `Bad server address ${JSON.stringify(s)} (want HOST:PORT)`);
  return { host: m[1], port };
}

export class AudioLabClient extends EventEmitter<ClientEvents> {
  readonly options: Required<Omit<ClientOptions, 'localAddress'>> & { localAddress?: string };
  private conn: Connection | undefined;
  private nextReq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, IncomingStream>();
  /** STREAM_START of a PLAY, handed to play()'s caller. */
  private readonly starts = new Map<number, (s: IncomingStream) => void>();
  private fullStreams = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  /** CLIENTS pages gathered so far, by request. */
  private readonly clientPages = new Map<number, ClientInfo[]>();
  /** CATALOG pages gathered so far, by request (-1: a push). */
  private readonly catalogPages = new Map<number, SongInfo[]>();
  private closeError: AudioLabError | undefined;
  /** Decides on INVITEs; default: refuse (not listening). */
  inviteHandler: (invite: Invite) => true | string = () => 'not listening';
  me: ClientInfo | undefined;
  /** The server's catalog as last seen (LIST answers and pushed changes). */
  catalog: SongInfo[] | undefined;
  /** Who is online, by id: a PRESENCE delta is applied in constant time, whoever many are online. */
  private readonly online = new Map<number, ClientInfo>();
  /** `clients` as last built (null: changed since). */
  private onlineList: ClientInfo[] | null = [];
  /** The last change of who is online that `online` reflects (PRESENCE/ONLINE up to it are skipped). */
  private presenceSeq = 0;
  /** How many are online, as the server last said. */
  onlineCount = 0;
  /** Whether `clients` holds everyone online (false after a WELCOME's first page of many, or an ONLINE count). */
  listComplete = true;
  motd = '';
  version = 0;

  constructor(options: ClientOptions = {}) {
    super();
    this.options = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? DEFAULT_PORT,
      name: options.name ?? 'client',
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    };
  }

  /** Who is online (this client included), by id; built when asked after a change. */
  get clients(): ClientInfo[] {
    return (this.onlineList ??= [...this.online.values()].sort((a, b) => a.id - b.id));
  }

  private setOnline(list: readonly ClientInfo[], replace: boolean): void {
    if (replace) this.online.clear();
    for (const c of list) this.online.set(c.id, c);
    this.onlineList = null;
  }

  /** Everyone online, asked of the server (WHO, answered in CLIENTS pages). */
  async who(): Promise<ClientInfo[]> {
    const req = this.nextReq++;
    await this.request<'CLIENTS'>({ type: 'WHO', req }, ['CLIENTS'], req);
    return this.clients;
  }

  get connected(): boolean {
    return this.conn !== undefined && !this.conn.isClosed;
  }

  get connection(): Connection {
    if (!this.conn || this.conn.isClosed) throw this.closeError ?? new AudioLabError('AUDIOLAB_ERR_CONNECTION', 'Not connected');
    return this.conn;
  }

  /** Connects and says HELLO; resolves with the WELCOME. */
  async connect(): Promise<MessageOf<'WELCOME'>> {
    const { host, port } = this.options;
    const socket = netConnect({ host, port, ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}) });
    const timer = setTimeout(() => socket.destroy(new Error(`timed out after ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
    try {
      await once(socket, 'connect');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const hint = code === 'ECONNREFUSED' ? 'nothing listens there. Start a server (audiolab server), or name another with --server HOST:PORT'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `the name ${host} is not known. Check --server HOST:PORT`
        : `${(err as Error).message}. Check --server HOST:PORT and that the server runs`;
      throw new AudioLabError('AUDIOLAB_ERR_CONNECTION', `Cannot connect to ${host}:${port}: ${hint}`, { peer: `${host}:${port}` });
    } finally {
      clearTimeout(timer);
    }
    const conn = new Connection(socket);
    this.conn = conn;
    conn.on('message', (m) => this.onMessage(m));
    conn.on('protocolError', (err, fatal) => {
      if (fatal) {
        this.closeError = err;
        conn.destroy();
      }
    });
    conn.on('close', () => this.onClose());
    const welcome = await this.request<'WELCOME'>({ type: 'HELLO', versions: [...SUPPORTED_VERSIONS], name: this.options.name, software: 'tcp-audio-lab' }, ['WELCOME'], 0);
    this.me = this.clients.find((c) => c.id === welcome.clientId);
    if (this.options.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.conn?.send({ type: 'PING', t: Date.now() }), this.options.pingIntervalMs);
      this.pingTimer.unref();
    }
    return welcome;
  }

  /** Waits for the answer of one of `types` (or an ERROR) carrying `req`. */
  private expect<T extends Message['type']>(req: number, types: readonly T[], what: string, timeoutMs = this.options.requestTimeoutMs): Promise<MessageOf<T>> {
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve: resolve as (m: Message) => void, reject, types, what };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(req);
          reject(new AudioLabError('AUDIOLAB_ERR_TIMEOUT', `No answer to ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(req, p);
    });
  }

  /** Sends a request and waits for its answer. */
  private request<T extends Message['type']>(msg: Message, types: readonly T[], req: number, timeoutMs = this.options.requestTimeoutMs): Promise<MessageOf<T>> {
    const answer = this.expect(req, types, msg.type, timeoutMs);
    try {
      this.connection.send(msg);
    } catch (err) {
      this.settle(req, { type: 'ERROR', req, code: (err as AudioLabError).code ?? 'AUDIOLAB_ERR_CONNECTION', message: (err as Error).message });
    }
    return answer;
  }

  private settle(req: number, msg: Message): boolean {
    const p = this.pending.get(req);
    if (!p) return false;
    if (msg.type === 'ERROR') {
      p.reject(errorFrom(msg));
    } else if (p.types.includes(msg.type)) {
      p.resolve(msg);
    } else {
      return false;
    }
    this.pending.delete(req);
    clearTimeout(p.timer);
    return true;
  }

  private onMessage(msg: Message): void {
    switch (msg.type) {
      case 'WELCOME':
        this.setOnline(msg.clients, true);
        this.onlineCount = msg.online;
        this.listComplete = msg.clients.length >= msg.online;
        this.presenceSeq = msg.seq;
        this.motd = msg.motd;
        this.version = msg.version;
        this.settle(0, msg);
        return;
      case 'CLIENTS': {
        // pages of one answer gather until the last; then they replace the list
        const list = [...(this.clientPages.get(msg.req) ?? []), ...msg.clients];
        if (msg.more) {
          this.clientPages.set(msg.req, list);
          return;
        }
        this.clientPages.delete(msg.req);
        this.setOnline(list, true);
        this.onlineCount = list.length;
        this.listComplete = true;
        this.presenceSeq = Math.max(this.presenceSeq, msg.seq);
        this.settle(msg.req, { ...msg, clients: list });
        return;
      }
      case 'PRESENCE': {
        // a delta: skipped when the list already reflects it
        if (msg.seq <= this.presenceSeq) return;
        this.presenceSeq = msg.seq;
        this.onlineCount = msg.online;
        if (msg.event === 'leave') this.online.delete(msg.client.id);
        else this.online.set(msg.client.id, msg.client);
        this.onlineList = null;
        if (msg.client.id !== this.me?.id) this.emit('presence', msg.event, msg.client);
        return;
      }
      case 'ONLINE':
        if (msg.seq <= this.presenceSeq) return;
        this.presenceSeq = msg.seq;
        this.onlineCount = msg.online;
        this.listComplete = false;
        this.emit('online', msg.online, msg.changes);
        return;
      case 'PING':
        this.conn?.send({ type: 'PONG', t: msg.t });
        return;
      case 'CATALOG': {
        // pages of one answer (or one push) gather until the last; then it is handled whole
        const key = msg.req ?? -1;
        const songs = [...(this.catalogPages.get(key) ?? []), ...msg.songs];
        if (msg.more) {
          this.catalogPages.set(key, songs);
          return;
        }
        this.catalogPages.delete(key);
        this.catalog = songs;
        const whole = { ...msg, songs, more: false };
        if (msg.req === undefined || !this.settle(msg.req, whole)) this.emit('catalog', songs, msg.reason ?? 'update');
        return;
      }
      case 'INVITE': {
        const verdict = this.inviteHandler({ streamId: msg.streamId, kind: msg.kind, from: msg.from, song: msg.song, size: msg.size, sha256: msg.sha256, format: msg.format });
        this.conn?.send(verdict === true ? { type: 'ACCEPT', streamId: msg.streamId } : { type: 'REFUSE', streamId: msg.streamId, reason: verdict });
        return;
      }
      case 'STREAM_START': return this.onStreamStart(msg);
      case 'DATA': {
        const s = this.streams.get(msg.streamId);
        if (!s) return;
        try {
          s.check.accept(msg.offset, msg.data);
        } catch (err) {
          const e = toAudioLabError(err);
          this.failStream(msg.streamId, e);
          this.conn?.send({ type: 'STREAM_ABORT', streamId: msg.streamId, code: e.code, message: e.message });
          return;
        }
        // No copy: the data is a view of the buffer of one socket read, which Node allocates anew
        // for every read (no `onread` buffer reuse here), so the consumer may keep it.
        s.deliver(msg.data);
        return;
      }
      case 'STREAM_END': {
        const s = this.streams.get(msg.streamId);
        if (!s) return;
        try {
          s.check.finish(msg.bytes);
        } catch (err) {
          const e = toAudioLabError(err);
          this.failStream(msg.streamId, e);
          // the sender of a pushed stream waits for our word: it was not received whole
          if (s.pushed) this.conn?.send({ type: 'STREAM_ABORT', streamId: msg.streamId, code: e.code, message: e.message });
          return;
        }
        this.streams.delete(msg.streamId);
        s.verified = true;
        // every byte is here and verified: the sender of a pushed stream (play-on, relay) is told
        // so, now or, when its consumer confirms itself, once that has everything
        if (s.pushed && !s.confirmsItself) this.conn?.send({ type: 'RECEIVED', streamId: msg.streamId, bytes: msg.bytes });
        s.finish();
        return;
      }
      case 'STREAM_ABORT':
        if (!this.streams.has(msg.streamId)) this.emit('inviteLapsed', msg.streamId);
        this.failStream(msg.streamId, new AudioLabError(isWireErrorCode(msg.code) ? msg.code : 'AUDIOLAB_ERR_PEER_GONE', msg.message, { streamId: msg.streamId }));
        return;
      case 'ERROR': {
        if (msg.req !== undefined && this.settle(msg.req, msg)) return;
        if (msg.streamId !== undefined && this.streams.has(msg.streamId)) {
          this.failStream(msg.streamId, errorFrom(msg));
          return;
        }
        const e = errorFrom(msg);
        if (msg.fatal) this.closeError = e;
        this.emit('serverError', e);
        return;
      }
      case 'BYE':
        this.closeError = new AudioLabError('AUDIOLAB_ERR_CONNECTION', `Server said goodbye: ${msg.reason}`);
        return;
      default:
        if ('req' in msg && typeof msg.req === 'number') this.settle(msg.req, msg);
    }
  }

  private onStreamStart(msg: MessageOf<'STREAM_START'>): void {
    const header: StreamHeader = {
      streamId: msg.streamId, kind: msg.kind, song: msg.song, size: msg.size, offset: msg.offset, sha256: msg.sha256, format: msg.format,
      ...(msg.from === undefined ? {} : { from: msg.from }),
    };
    const s = new IncomingStream(header, (full) => {
      this.fullStreams += full ? 1 : -1;
      if (full && this.fullStreams === 1) this.conn?.pause();
      if (!full && this.fullStreams === 0) this.conn?.resume();
    });
    this.streams.set(msg.streamId, s);
    const waiter = msg.req === undefined ? undefined : this.starts.get(msg.req);
    if (waiter && msg.req !== undefined) {
      this.starts.delete(msg.req);
      this.settle(msg.req, msg);
      waiter(s);
    } else {
      s.pushed = true;
      this.emit('stream', s);
    }
  }

  private failStream(streamId: number, err: AudioLabError): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    this.streams.delete(streamId);
    s.fail(err);
  }

  private onClose(): void {
    clearInterval(this.pingTimer);
    const err = this.closeError ?? new AudioLabError('AUDIOLAB_ERR_CONNECTION', 'Connection closed by the server');
    for (const [req, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(this.closeError ?? new AudioLabError('AUDIOLAB_ERR_CONNECTION', `Connection closed while waiting for the answer to ${p.what}`));
      this.pending.delete(req);
    }
    for (const id of [...this.streams.keys()]) this.failStream(id, new AudioLabError(err.code === 'AUDIOLAB_ERR_CONNECTION' ? 'AUDIOLAB_ERR_PEER_GONE' : err.code, err.message));
    this.emit('close', this.closeError);
  }

  // ---- requests ------------------------------------------------------------------------------------

  async list(): Promise<SongInfo[]> {
    const req = this.nextReq++;
    return (await this.request<'CATALOG'>({ type: 'LIST', req }, ['CATALOG'], req)).songs;
  }

  /** Asks for a library song from `offset` and resolves with the incoming stream once it starts; `realtime`: it is played as it comes, so the server sends it at the song's pace. */
  async play(song: string, offset = 0, realtime = false): Promise<IncomingStream> {
    const req = this.nextReq++;
    let stream: IncomingStream | undefined;
    this.starts.set(req, (s) => { stream = s; });
    try {
      await this.request<'STREAM_START'>({ type: 'PLAY', req, song, offset, ...(realtime ? { realtime } : {}) }, ['STREAM_START'], req);
    } finally {
      this.starts.delete(req);
    }
    return stream!;
  }

  /** Tells the server a song was played without a transfer (from the cache). No answer expected. */
  notePlayed(song: SongInfo, source: 'cache'): void {
    this.conn?.send({ type: 'PLAYED', song: song.name, sha256: song.sha256, source });
  }

  /** Confirms a pushed stream with `confirmsItself` set: its consumer has everything (RECEIVED to the sender). */
  confirm(stream: IncomingStream): void {
    if (!stream.pushed || !stream.verified || !stream.confirmsItself) return;
    stream.confirmsItself = false;
    this.conn?.send({ type: 'RECEIVED', streamId: stream.header.streamId, bytes: stream.check.position });
  }

  /**
   * Stops receiving a stream: the sender is told (STREAM_ABORT) and the stream ends with `reason`.
   * A pushed stream that arrived whole but was not confirmed is refused too: its consumer failed.
   */
  cancel(stream: IncomingStream, reason = 'cancelled by the receiver'): void {
    const id = stream.header.streamId;
    if (stream.pushed && stream.verified && stream.confirmsItself) {
      stream.confirmsItself = false;
      this.conn?.send({ type: 'STREAM_ABORT', streamId: id, code: 'AUDIOLAB_ERR_REFUSED', message: reason });
      return;
    }
    if (!this.streams.has(id)) return;
    this.conn?.send({ type: 'STREAM_ABORT', streamId: id, code: 'AUDIOLAB_ERR_REFUSED', message: reason });
    this.failStream(id, new AudioLabError('AUDIOLAB_ERR_REFUSED', reason, { streamId: id }));
  }

  async listen(accept = true): Promise<void> {
    const req = this.nextReq++;
    await this.request<'OK'>({ type: 'LISTEN', req, accept }, ['OK'], req);
  }

  /** Plays a library song on another client; resolves when it has been delivered. */
  async playOn(target: string, song: string): Promise<MessageOf<'OK'>> {
    const req = this.nextReq++;
    return this.request<'OK'>({ type: 'PLAY_ON', req, target, song }, ['OK'], req, 0);
  }

  /** Uploads a local WAV file into the server's library. */
  async upload(path: string, name = basename(path), onProgress?: (sent: number, total: number) => void): Promise<MessageOf<'UPLOAD_DONE'>> {
    const { size, sha256 } = await localFile(path);
    const req = this.nextReq++;
    const ready = await this.request<'READY'>({ type: 'UPLOAD', req, name, size, sha256 }, ['READY'], req);
    const done = this.expect(req, ['UPLOAD_DONE'], 'UPLOAD', 0);
    await sendFile(this.connection, path, ready.streamId, size, this.options.chunkSize, onProgress, done);
    return done;
  }

  /** Streams a local WAV file to another client through the server (a relay). */
  async sendTo(target: string, path: string, onProgress?: (sent: number, total: number) => void): Promise<MessageOf<'OK'>> {
    const { size, sha256, head } = await localFile(path);
    const wav = parseWavHeader(head, size);
    if (!wav) throw new AudioLabError('AUDIOLAB_ERR_BAD_FORMAT', `${path}: not a supported PCM WAV`);
    const req = this.nextReq++;
    const ready = await this.request<'READY'>({ type: 'SEND_TO', req, target, name: basename(path), size, sha256, format: wav.format }, ['READY'], req, 0);
    const done = this.expect(req, ['OK'], 'SEND_TO', 0);
    await sendFile(this.connection, path, ready.streamId, size, this.options.chunkSize, onProgress, done);
    return done;
  }

  async close(reason = 'bye'): Promise<void> {
    clearInterval(this.pingTimer);
    const conn = this.conn;
    if (!conn || conn.isClosed) return;
    const closed = once(conn, 'close');
    conn.bye(reason);
    await closed;
  }
}

/** A local file's size, sha256 and header; a file that cannot be read is AUDIOLAB_ERR_FILE, saying why in words. */
async function localFile(path: string): Promise<{ size: number; sha256: string; head: Buffer }> {
  try {
    return await fileDigest(path, MAX_HEADER_BYTES);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `there is no file ${path}: check the path (relative paths start from ${process.cwd()})`
      : code === 'EISDIR' ? `${path} is a folder: name a WAV file in it`
      : code === 'EACCES' || code === 'EPERM' ? `${path} cannot be read: permission denied`
      : `${path} cannot be read (${code ?? (err as Error).message})`;
    throw new AudioLabError('AUDIOLAB_ERR_FILE', why.charAt(0).toUpperCase() + why.slice(1), { file: path });
  }
}

function errorFrom(msg: MessageOf<'ERROR'>): AudioLabError {
  const code: ErrorCode = isWireErrorCode(msg.code) ? msg.code : 'AUDIOLAB_ERR_INTERNAL';
  return new AudioLabError(code, msg.message, { ...(msg.streamId === undefined ? {} : { streamId: msg.streamId }) });
}

