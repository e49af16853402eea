/**
 * A listening client's side of pushed streams (play-on, relay): which invites it accepts, and each
 * accepted stream played into its own sink, concurrently. The listen command, the menu and scenarios
 * share it.
 *
 * Every accepted stream is consumed at once. A stream left waiting behind another would fill its
 * buffer, the client would stop reading the connection (incoming.ts), and the stream being played
 * would starve with it. So a client takes at most `maxConcurrent` streams and refuses the rest as
 * busy: its sender gets AUDIOLAB_ERR_REFUSED with the reason. One device or one wav: file takes one
 * stream at a time; a recording folder or the null sink takes several.
 */
import { EventEmitter } from 'node:events';
import { toAudioLabError, type AudioLabError } from '../protocol/errors.ts';
import type { AudioLabClient, Invite } from './client.ts';
import type { IncomingStream, StreamHeader } from './incoming.ts';
import { playIncoming } from './player.ts';
import type { AudioSink } from './sinks/sink.ts';

export interface ReceiverOptions {
  /** The sink for one stream (called once its STREAM_START arrives). */
  sinkFor: (header: StreamHeader) => Promise<AudioSink>;
  /** Streams at once; an invite beyond them is refused as busy. Read at each invite (a scenario changes it per step). */
  maxConcurrent: number;
  /** Refuse every invite, with this reason. */
  refuse?: string;
  /** Called for each invite this receiver accepts. */
  onAccept?: (invite: Invite) => void;
}

export interface ReceiverEvents {
  /** A stream was played or recorded whole. */
  received: [header: StreamHeader, pcmBytes: number, sink: AudioSink];
  /** A stream failed or was stopped; its sink kept nothing. */
  failed: [header: StreamHeader, error: AudioLabError];
}

/** How long an accepted invite may wait for its STREAM_START before its place is given up. */
const START_WITHIN_MS = 30_000;

export class Receiver extends EventEmitter<ReceiverEvents> {
  private readonly client: AudioLabClient;
  private readonly options: ReceiverOptions;
  /** Invites accepted whose stream has not started yet, with the song (for a busy refusal's reason). */
  private readonly accepted = new Map<number, { song: string; from: string; timer: NodeJS.Timeout }>();
  private readonly playing = new Map<IncomingStream, Promise<void>>();

  constructor(client: AudioLabClient, options: ReceiverOptions) {
    super();
    this.client = client;
    this.options = options;
    client.inviteHandler = (inv) => this.decide(inv);
    client.on('inviteLapsed', (streamId) => this.forget(streamId));
    client.on('stream', (s) => this.take(s));
  }

  /** Streams accepted and not yet finished. */
  get active(): number {
    return this.accepted.size + this.playing.size;
  }

  private decide(inv: Invite): true | string {
    if (this.options.refuse !== undefined) return this.options.refuse;
    if (this.active >= this.options.maxConcurrent) {
      const [busyWith] = [...this.accepted.values(), ...[...this.playing.keys()].map((s) => ({ song: s.header.song, from: s.header.from ?? 'server' }))];
      return `busy: already receiving ${busyWith?.song ?? 'a stream'} from ${busyWith?.from ?? 'another client'}; try again when it ends`;
    }
    const timer = setTimeout(() => this.forget(inv.streamId), START_WITHIN_MS);
    timer.unref();
    this.accepted.set(inv.streamId, { song: inv.song, from: inv.from, timer });
    this.options.onAccept?.(inv);
    return true;
  }

  private forget(streamId: number): void {
    const a = this.accepted.get(streamId);
    if (!a) return;
    clearTimeout(a.timer);
    this.accepted.delete(streamId);
  }

  private take(s: IncomingStream): void {
    // the sender is told OK only once the sink has everything (a recording complete under its name)
    s.confirmsItself = true;
    const invited = this.accepted.has(s.header.streamId);
    this.forget(s.header.streamId);
    // a stream nobody invited, or past the limit, is not played (and not left to block the rest)
    if (!invited && this.active >= this.options.maxConcurrent) {
      this.client.cancel(s, 'busy: not expecting this stream');
      return;
    }
    const done = this.play(s).finally(() => this.playing.delete(s));
    this.playing.set(s, done);
  }

  private async play(s: IncomingStream): Promise<void> {
    let sink: AudioSink;
    try {
      sink = await this.options.sinkFor(s.header);
    } catch (err) {
      const e = toAudioLabError(err, 'AUDIOLAB_ERR_SINK');
      this.client.cancel(s, `the receiver cannot play it: ${e.message}`);
      this.emit('failed', s.header, e);
      return;
    }
    try {
      const pcm = await playIncoming(s, sink);
      this.client.confirm(s);
      this.emit('received', s.header, pcm, sink);
    } catch (err) {
      // the sink failed: the sender is told (a no-op when the stream itself failed)
      const e = toAudioLabError(err, 'AUDIOLAB_ERR_SINK');
      this.client.cancel(s, `the receiver stopped: ${e.message}`);
      this.emit('failed', s.header, e);
    }
  }

  /** Stops every stream being received (their senders are told why) and waits until their sinks have let go. */
  async stop(reason: string): Promise<void> {
    for (const a of this.accepted.values()) clearTimeout(a.timer);
    this.accepted.clear();
    this.client.inviteHandler = () => reason;
    for (const s of this.playing.keys()) this.client.cancel(s, reason);
    await Promise.all(this.playing.values());
  }
}

/** Whether a sink word can take several streams at once (null discards; a recording folder gives each its own file). */
export function takesManyStreams(sinkSpec: string, recordDir: string | undefined): boolean {
  return recordDir !== undefined || sinkSpec === 'null';
}

