/** The interactive client: a numbered menu, like the original course project's. */
import { createInterface, type Interface } from 'node:readline/promises';
import { basename } from 'node:path';
import { playSong } from '../../services/client/player.ts';
import { playIncoming } from '../../services/client/player.ts';
import { byteRateOf } from '../../services/client/sinks/sink.ts';
import type { IncomingStream } from '../../services/client/incoming.ts';
import { toAudioLabError } from '../../services/protocol/errors.ts';
import type { Command } from '../command.ts';
import { CLIENT_OPTIONS, PLAYBACK_OPTIONS, cacheFrom, connectClient, describePlay, playProgress, sinkFrom } from '../common.ts';
import { fmtBytes, fmtMs, ProgressLine } from '../ui.ts';

const MENU = `
  1) List songs
  2) Play a song
  3) Upload a song
  4) Listen (accept songs from other clients)
  5) Play a song on another client
  6) Send my song to another client
  7) Quit`;

export const menuCommand: Command = {
  name: 'menu',
  options: { ...CLIENT_OPTIONS, ...PLAYBACK_OPTIONS },
  async run(ctx) {
    const client = await connectClient(ctx);
    const rl: Interface = createInterface({ input: process.stdin, output: process.stdout });
    const say = (s: string): void => { process.stdout.write(s + '\n'); };
    client.on('presence', (event, who) => say(`\n* ${who.name} ${event === 'join' ? 'joined' : event === 'leave' ? 'left' : who.listening ? 'is now listening' : 'stopped listening'}`));
    client.on('catalog', (songs, reason) => say(`\n* the catalog changed (${reason}): ${songs.length} songs`));
    client.on('close', (err) => { say(`\nDisconnected${err ? `: ${err.code} ${err.message}` : ''}`); rl.close(); });
    client.inviteHandler = (inv) => { say(`\n* ${inv.from} sends you ${inv.song} (${fmtBytes(inv.size)}) — playing`); return true; };
    client.on('stream', (s: IncomingStream) => {
      void sinkFrom(ctx).then((sink) => playIncoming(s, sink)).then(
        (pcm) => say(`* finished ${s.header.song} from ${s.header.from}: ${fmtBytes(pcm)} played`),
        (err) => say(`* ${s.header.song} failed: ${toAudioLabError(err).message}`),
      );
    });
    const pickSong = async (): Promise<string | undefined> => {
      const songs = await client.list();
      songs.forEach((s, i) => say(`  ${i + 1}) ${s.name}  ${fmtMs(s.durationMs)}  ${s.sampleRate} Hz ${s.bitsPerSample}-bit`));
      const a = (await rl.question('Song number or name: ')).trim();
      return songs[Number(a) - 1]?.name ?? (a || undefined);
    };
    const pickClient = async (): Promise<string | undefined> => {
      const others = client.clients.filter((c) => c.id !== client.me?.id);
      if (others.length === 0) { say('No other clients online.'); return undefined; }
      others.forEach((c, i) => say(`  ${i + 1}) ${c.name}${c.listening ? ' (listening)' : ''}`));
      const a = (await rl.question('Client number or name: ')).trim();
      return others[Number(a) - 1]?.name ?? (a || undefined);
    };
    try {
      for (;;) {
        say(MENU);
        let choice: string;
        try {
          choice = (await rl.question('Choose [1-7]: ')).trim();
        } catch {
          break; // input closed
        }
        try {
          if (choice === '1') {
            for (const s of await client.list()) say(`  ${s.name}  ${fmtMs(s.durationMs)}  ${s.sampleRate} Hz ${s.channels === 1 ? 'mono' : 'stereo'} ${s.bitsPerSample}-bit  ${fmtBytes(s.size)}`);
          } else if (choice === '2') {
            const song = await pickSong();
            if (!song) continue;
            const sink = await sinkFrom(ctx);
            const line = new ProgressLine();
            const info = (): number => { const i = client.catalog?.find((s) => s.name === song); return i ? byteRateOf(i) : 0; };
            const r = await playSong(client, song, { cache: cacheFrom(ctx), sink, onProgress: playProgress(line, song, info) });
            line.done();
            say(describePlay(r, sink));
          } else if (choice === '3') {
            const file = (await rl.question('WAV file to upload: ')).trim();
            if (!file) continue;
            const d = await client.upload(file, basename(file));
            say(`Uploaded as ${d.name}`);
          } else if (choice === '4') {
            await client.listen(true);
            say('Listening: other clients can now play songs on you or send you theirs.');
          } else if (choice === '5') {
            const target = await pickClient();
            const song = target && (await pickSong());
            if (!target || !song) continue;
            const ok = await client.playOn(target, song);
            say(`Played ${song} on ${target} (${fmtBytes(ok.bytes ?? 0)})`);
          } else if (choice === '6') {
            const target = await pickClient();
            const file = target && (await rl.question('Your WAV file: ')).trim();
            if (!target || !file) continue;
            const ok = await client.sendTo(target, file);
            say(`Sent ${basename(file)} to ${target} through the server (${fmtBytes(ok.bytes ?? 0)})`);
          } else if (choice === '7' || choice === 'q') {
            break;
          } else {
            say('Please choose 1 to 7.');
          }
        } catch (err) {
          const e = toAudioLabError(err);
          say(`Error ${e.code}: ${e.message}`);
          if (!client.connected) break;
        }
      }
    } finally {
      rl.close();
      await client.close().catch(() => {});
    }
    return 0;
  },
};
