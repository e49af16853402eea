/** The interactive client: a numbered menu, like the original course project's. */
import { createInterface, type Interface } from 'node:readline/promises';
import { basename } from 'node:path';
import { playSong } from '../../services/client/player.ts';
import { Receiver, takesManyStreams } from '../../services/client/receiver.ts';
import { byteRateOf } from '../../services/common/wav.ts';
import type { AudioLabClient } from '../../services/client/client.ts';
import { AudioLabError, toAudioLabError } from '../../services/protocol/errors.ts';
import type { ClientInfo } from '../../services/protocol/index.ts';
import type { Command } from '../command.ts';
import { CLIENT_OPTIONS, PLAYBACK_OPTIONS, cacheFrom, connectClient, describePlay, onlineLine, playProgress, presenceLine, sinkFrom } from '../common.ts';
import { clearProgress, fmtBytes, fmtMs, ProgressLine } from '../ui.ts';

const MENU = `
  1) List songs
  2) Play a song
  3) Upload a song
  4) Listen (accept songs from other clients)
  5) Play a song on another client
  6) Send my song to another client
  7) Quit`;

/** A client as the menu shows it: its name and the address it connects from. */
export const showClient = (c: ClientInfo): string => `${c.name} (${c.address})${c.listening ? ' listening' : ''}`;

/** Why the menu ended: the user quit or the input ended (0), or the server went away (1). */
type End = { kind: 'quit' } | { kind: 'eof' } | { kind: 'gone'; error: AudioLabError };

export const menuCommand: Command = {
  name: 'menu',
  details: [
    'Choose by number; a song or a client may also be typed by name, and a client by its address (IP:PORT).',
    'Exits 0 on Quit or when the input ends, 1 when the server goes away, 130 on Ctrl-C.',
  ].join('\n'),
  options: { ...CLIENT_OPTIONS, ...PLAYBACK_OPTIONS },
  async run(ctx) {
    await sinkFrom(ctx); // a bad --sink is said before connecting
    const client = await connectClient(ctx);
    const rl: Interface = createInterface({ input: process.stdin, output: process.stdout });
    const say = (s: string): void => { clearProgress(); process.stdout.write(s + '\n'); };
    // Every wait of the menu ends when the input ends, the server goes away or Ctrl-C comes: a
    // question left pending would keep the process waiting for ever.
    let end: End | undefined;
    let wake: () => void = () => {};
    const ended = new Promise<void>((resolve) => { wake = resolve; });
    const finish = (e: End): void => { end ??= e; wake(); };
    rl.on('close', () => finish({ kind: 'eof' }));
    // in a terminal readline takes Ctrl-C itself: make it the process's interrupt (exit 130)
    rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
    client.on('close', (err) => finish({ kind: 'gone', error: err ?? new AudioLabError('AUDIOLAB_ERR_CONNECTION', 'The server closed the connection') }));
    const ask = async (q: string): Promise<string | undefined> => {
      if (end) return undefined;
      const ac = new AbortController();
      const answer = rl.question(q, { signal: ac.signal }).catch(() => undefined);
      const a = await Promise.race([answer, ended.then(() => undefined)]);
      ac.abort();
      return end ? undefined : a?.trim();
    };

    client.on('presence', (event, who) => say(`\n* ${presenceLine(event, who)}`));
    client.on('online', (online, changes) => say(`\n* ${onlineLine(online, changes)}`));
    client.on('catalog', (songs, reason) => say(`\n* the catalog changed (${reason}): ${songs.length} songs`));
    const receiver = new Receiver(client, {
      maxConcurrent: takesManyStreams(String(ctx.values.sink ?? 'auto'), undefined) ? 8 : 1,
      sinkFor: () => sinkFrom(ctx),
      onAccept: (inv) => say(`\n* ${inv.from} ${inv.kind === 'relay' ? 'sends you' : 'plays'} ${inv.song} (${fmtBytes(inv.size)}) — playing`),
    });
    // Ctrl-C: the senders of streams under way are told first, then the connection closes, so
    // whatever the menu waits for ends at once
    ctx.signal.addEventListener('abort', () => {
      finish({ kind: 'quit' });
      void receiver.stop('the receiver was interrupted (Ctrl-C)').finally(() => client.close('interrupted')).catch(() => {});
    });
    receiver.on('received', (h, pcm) => say(`* finished ${h.song} from ${h.from ?? 'server'}: ${fmtBytes(pcm)} played`));
    receiver.on('failed', (h, e) => say(`* ${h.song} from ${h.from ?? 'server'} failed (${e.code}): ${e.message}`));

    try {
      await menuLoop(client, ctx, ask, say);
    } catch (err) {
      if (!end) throw err;
    } finally {
      await receiver.stop(ctx.signal.aborted ? 'the receiver was interrupted (Ctrl-C)' : 'the receiver is leaving');
      rl.close();
      await client.close().catch(() => {});
    }
    if (end?.kind === 'gone' && !ctx.signal.aborted) {
      throw new AudioLabError(end.error.code, `Disconnected: ${end.error.message}. Is the server running? Start it (audiolab server), then run the menu again.`);
    }
    if (end?.kind === 'eof') say('Input ended: goodbye.');
    return 0;
  },
};

type Ask = (q: string) => Promise<string | undefined>;

async function menuLoop(client: AudioLabClient, ctx: Parameters<Command['run']>[0], ask: Ask, say: (s: string) => void): Promise<void> {
  const pickSong = async (): Promise<string | undefined> => {
    const songs = await client.list();
    songs.forEach((s, i) => say(`  ${i + 1}) ${s.name}  ${fmtMs(s.durationMs)}  ${s.sampleRate} Hz ${s.bitsPerSample}-bit`));
    const a = await ask('Song number or name: ');
    return songs[Number(a) - 1]?.name ?? (a || undefined);
  };
  const pickClient = async (): Promise<string | undefined> => {
    const everyone = client.listComplete ? client.clients : await client.who();
    const others = everyone.filter((c) => c.id !== client.me?.id);
    if (others.length === 0) { say('No other clients online.'); return undefined; }
    others.forEach((c, i) => say(`  ${i + 1}) ${showClient(c)}`));
    const a = await ask('Client number, name or address: ');
    return others[Number(a) - 1]?.name ?? (a || undefined);
  };
  for (;;) {
    say(MENU);
    const choice = await ask('Choose [1-7]: ');
    if (choice === undefined || choice === '7' || choice === 'q') return;
    try {
      if (choice === '1') {
        for (const s of await client.list()) say(`  ${s.name}  ${fmtMs(s.durationMs)}  ${s.sampleRate} Hz ${s.channels === 1 ? 'mono' : 'stereo'} ${s.bitsPerSample}-bit  ${fmtBytes(s.size)}`);
      } else if (choice === '2') {
        const song = await pickSong();
        if (!song) continue;
        const sink = await sinkFrom(ctx);
        const line = new ProgressLine();
        const info = (): number => { const i = client.catalog?.find((s) => s.name === song); return i ? byteRateOf(i) : 0; };
        const r = await playSong(client, song, { cache: cacheFrom(ctx), sink, onProgress: playProgress(line, song, info), signal: ctx.signal });
        line.done();
        say(describePlay(r, sink));
      } else if (choice === '3') {
        const file = await ask('WAV file to upload: ');
        if (!file) continue;
        const d = await client.upload(file, basename(file));
        say(`Uploaded as ${d.name}`);
      } else if (choice === '4') {
        await client.listen(true);
        say(`Listening${client.me ? ` as ${showClient(client.me)}` : ''}: other clients can now play songs on you or send you theirs.`);
      } else if (choice === '5') {
        const target = await pickClient();
        const song = target && (await pickSong());
        if (!target || !song) continue;
        const ok = await client.playOn(target, song);
        say(`Played ${song} on ${target} (${fmtBytes(ok.bytes ?? 0)})`);
      } else if (choice === '6') {
        const target = await pickClient();
        const file = target && (await ask('Your WAV file: '));
        if (!target || !file) continue;
        const ok = await client.sendTo(target, file);
        say(`Sent ${basename(file)} to ${target} through the server (${fmtBytes(ok.bytes ?? 0)})`);
      } else {
        say('Please choose 1 to 7.');
      }
    } catch (err) {
      if (!client.connected || ctx.signal.aborted) throw err;
      const e = toAudioLabError(err);
      say(`Error ${e.code}: ${e.message}`);
    }
  }
}
