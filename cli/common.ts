/** Options and helpers shared by the client commands. */
import { AudioLabClient, parseServerAddress } from '../services/client/client.ts';
import { SongCache, DEFAULT_CACHE_DIR } from '../services/client/cache.ts';
import { createSink, SINK_HELP, type AudioSink } from '../services/client/sinks/index.ts';
import { str, type CommandContext, type OptionSpec } from './command.ts';
import { bar, fmtBytes, fmtMs, ProgressLine } from './ui.ts';
import type { PlayProgress, PlayResult } from '../services/client/player.ts';
import type { ClientInfo } from '../services/protocol/index.ts';
import type { Underrun } from '../services/client/sinks/clock.ts';

export const CLIENT_OPTIONS: Record<string, OptionSpec> = {
  server: { type: 'string', short: 's', help: 'Server address', placeholder: 'HOST:PORT', default: process.env.AUDIOLAB_SERVER ?? '127.0.0.1:5050', defaultText: '$AUDIOLAB_SERVER, else 127.0.0.1:5050' },
  name: { type: 'string', short: 'n', help: 'Name to appear under', placeholder: 'NAME', default: process.env.AUDIOLAB_NAME ?? `client-${process.pid}`, defaultText: '$AUDIOLAB_NAME, else client-<pid>' },
  bind: { type: 'string', help: 'Local address to connect from', placeholder: 'IP' },
};

export const PLAYBACK_OPTIONS: Record<string, OptionSpec> = {
  sink: { type: 'string', help: `Where audio goes: ${SINK_HELP}`, placeholder: 'SINK', default: 'auto' },
  realtime: { type: 'boolean', help: 'Play null and wav: sinks at the song\'s pace (like a device; underruns are logged)' },
  cache: { type: 'string', help: 'Cache folder', placeholder: 'DIR', default: DEFAULT_CACHE_DIR, defaultText: '$XDG_CACHE_HOME/tcp-audio-lab/songs, else ~/.cache/tcp-audio-lab/songs' },
  'cache-size': { type: 'string', help: 'Cache size limit in MiB', placeholder: 'MIB', default: '512' },
};

/** Clients named on the Online: line after connecting; the rest are counted. */
const ONLINE_SHOWN = 20;

export async function connectClient(ctx: CommandContext, quiet = false): Promise<AudioLabClient> {
  const { host, port } = parseServerAddress(str(ctx, 'server'));
  const bind = str(ctx, 'bind');
  const client = new AudioLabClient({ host, port, name: str(ctx, 'name') ?? 'client', ...(bind ? { localAddress: bind } : {}) });
  const welcome = await client.connect();
  if (!quiet) {
    process.stderr.write(`${welcome.motd}\n`);
    const others = client.clients.filter((c) => c.id !== welcome.clientId);
    const shown = others.slice(0, ONLINE_SHOWN);
    const more = client.onlineCount - 1 - shown.length;
    if (others.length > 0) process.stderr.write(`Online: ${shown.map((c) => `${c.name} (${c.address}${c.listening ? ', listening' : ''})`).join(', ')}${more > 0 ? ` and ${more} more` : ''}\n`);
  }
  return client;
}

export function cacheFrom(ctx: CommandContext): SongCache {
  return new SongCache(str(ctx, 'cache') ?? DEFAULT_CACHE_DIR, Number(str(ctx, 'cache-size') ?? 512) * 1024 * 1024);
}

export function logUnderrun(u: Underrun): void {
  process.stderr.write(`\nunderrun at ${u.at}: nothing to play for ${u.gapMs} ms at ${fmtMs(u.positionMs)} into the song\n`);
}

let fallbackSaid = false;

/** The sink --sink names; `auto` without a sound device says once why it plays to null. */
export async function sinkFrom(ctx: CommandContext, spec = str(ctx, 'sink') ?? 'auto'): Promise<AudioSink> {
  return createSink(spec, {
    realtime: ctx.values.realtime === true,
    onUnderrun: logUnderrun,
    onFallback: (reason) => {
      if (fallbackSaid) return;
      fallbackSaid = true;
      process.stderr.write(`No sound: ${reason}; the audio goes to null. Record it with --sink wav:FILE.\n`);
    },
  });
}

export function playProgress(line: ProgressLine, name: string, bytesPerSecondPcm: () => number): (p: PlayProgress) => void {
  return (p) => {
    const rate = bytesPerSecondPcm();
    const played = rate > 0 ? fmtMs((p.playedBytes / rate) * 1000) : fmtBytes(p.playedBytes);
    line.update(`${name} ${bar(p.downloaded / p.size)} ${fmtBytes(p.downloaded)}/${fmtBytes(p.size)} downloaded, ${played} played`);
  };
}

export function describePlay(r: PlayResult, sink: AudioSink): string {
  const how = r.fromCache ? 'from cache (no network transfer)' : `${fmtBytes(r.downloadedBytes)} downloaded${r.resumedFrom > 0 ? ` (resumed at ${r.resumedFrom})` : ''}`;
  return `played ${r.song.name} to ${sink.description}: ${fmtMs(r.song.durationMs)} of audio, ${how}; first audio after ${fmtMs(r.firstAudioMs)}, ${r.underruns.length} underrun(s)`;
}

/** Many changes at once, in words. */
export function onlineLine(online: number, changes: number): string {
  return `${changes} changes of who is online: ${online} online now`;
}

/** A change of who is online, in words: "lis (127.0.0.1:40000) joined". */
export function presenceLine(event: string, who: ClientInfo): string {
  const what = event === 'join' ? 'joined' : event === 'leave' ? 'left' : who.listening ? 'is now listening' : 'stopped listening';
  return `${who.name} (${who.address}) ${what}`;
}
