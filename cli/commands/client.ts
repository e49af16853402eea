/** The client's actions as commands for scripts: list, play, upload, listen, play-on, send-to. */
import { basename, join } from 'node:path';
import { playIncoming, playSong } from '../../services/client/player.ts';
import { RecorderSink } from '../../services/client/sinks/index.ts';
import { byteRateOf } from '../../services/client/sinks/sink.ts';
import type { IncomingStream } from '../../services/client/incoming.ts';
import type { AudioLabClient } from '../../services/client/client.ts';
import { int, str, type Command, type CommandContext } from '../command.ts';
import { CLIENT_OPTIONS, PLAYBACK_OPTIONS, cacheFrom, connectClient, describePlay, playProgress, sinkFrom } from '../common.ts';
import { bar, fmtBytes, fmtMs, ProgressLine } from '../ui.ts';

async function withClient(ctx: CommandContext, fn: (c: AudioLabClient) => Promise<number>, quiet = false): Promise<number> {
  const client = await connectClient(ctx, quiet);
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => {});
  }
}

export const listCommand: Command = {
  name: 'list',
  options: { ...CLIENT_OPTIONS, json: { type: 'boolean', help: 'Print the catalog as JSON' } },
  async run(ctx) {
    return withClient(ctx, async (c) => {
      const songs = await c.list();
      if (ctx.values.json) {
        process.stdout.write(JSON.stringify(songs, null, 2) + '\n');
        return 0;
      }
      if (songs.length === 0) process.stdout.write('No songs on the server.\n');
      const w = Math.max(4, ...songs.map((s) => s.name.length));
      process.stdout.write(`${'SONG'.padEnd(w)}  DURATION  FORMAT                  SIZE       SHA256\n`);
      for (const s of songs) {
        const fmt = `${s.sampleRate} Hz ${s.channels === 1 ? 'mono' : 'stereo'} ${s.bitsPerSample}-bit`;
        process.stdout.write(`${s.name.padEnd(w)}  ${fmtMs(s.durationMs).padStart(8)}  ${fmt.padEnd(22)}  ${fmtBytes(s.size).padStart(9)}  ${s.sha256.slice(0, 12)}…\n`);
      }
      return 0;
    }, ctx.values.json === true);
  },
};

export const playCommand: Command = {
  name: 'play',
  args: 'SONG',
  arity: [1, 1],
  options: { ...CLIENT_OPTIONS, ...PLAYBACK_OPTIONS },
  examples: ['audiolab play ode-to-joy.wav', 'audiolab play ode-to-joy.wav --sink wav:out.wav --realtime'],
  async run(ctx) {
    return withClient(ctx, async (c) => {
      const sink = await sinkFrom(ctx);
      const line = new ProgressLine();
      const song = ctx.positionals[0]!;
      const rate = (): number => {
        const info = c.catalog?.find((s) => s.name === song);
        return info ? byteRateOf(info) : 0;
      };
      const r = await playSong(c, song, { cache: cacheFrom(ctx), sink, onProgress: playProgress(line, song, rate) });
      line.done();
      process.stdout.write(describePlay(r, sink) + '\n');
      return 0;
    });
  },
};

function transferProgress(line: ProgressLine, label: string): (sent: number, total: number) => void {
  return (sent, total) => line.update(`${label} ${bar(sent / total)} ${fmtBytes(sent)}/${fmtBytes(total)}`);
}

export const uploadCommand: Command = {
  name: 'upload',
  args: 'FILE',
  arity: [1, 1],
  options: { ...CLIENT_OPTIONS, as: { type: 'string', help: 'Name in the library (default: the file\'s name)', placeholder: 'NAME' } },
  async run(ctx) {
    return withClient(ctx, async (c) => {
      const file = ctx.positionals[0]!;
      const line = new ProgressLine();
      const done = await c.upload(file, str(ctx, 'as') ?? basename(file), transferProgress(line, `uploading ${basename(file)}`));
      line.done();
      process.stdout.write(`uploaded ${file} as ${done.name} (${fmtBytes(done.song.size)}, sha256 ${done.sha256.slice(0, 12)}…)\n`);
      return 0;
    });
  },
};

export const listenCommand: Command = {
  name: 'listen',
  details: 'With --record-dir each received stream is recorded to DIR/<from>--<song>. Stops after --count streams (default: run until Ctrl-C).',
  options: {
    ...CLIENT_OPTIONS, ...PLAYBACK_OPTIONS,
    count: { type: 'string', short: 'c', help: 'Exit after receiving this many streams', placeholder: 'N' },
    'record-dir': { type: 'string', help: 'Record every received stream into this folder', placeholder: 'DIR' },
    refuse: { type: 'boolean', help: 'Refuse every stream (to see what senders are told)' },
  },
  async run(ctx) {
    const count = int(ctx, 'count', Infinity);
    return withClient(ctx, async (c) => {
      c.inviteHandler = (inv) => (ctx.values.refuse ? 'refusing all streams' : (process.stderr.write(`${inv.from} wants to ${inv.kind === 'relay' ? 'send you' : 'play'} ${inv.song} (${fmtBytes(inv.size)})\n`), true));
      c.on('presence', (event, who) => process.stderr.write(`${who.name} ${event === 'join' ? 'joined' : event === 'leave' ? 'left' : who.listening ? 'is listening' : 'stopped listening'}\n`));
      await c.listen(true);
      process.stderr.write(`Listening as ${c.me?.name ?? ''}. Other clients can now play songs on you or send you theirs.\n`);
      let received = 0;
      let failed = 0;
      const recordDir = str(ctx, 'record-dir');
      await new Promise<void>((resolve) => {
        let busy = Promise.resolve();
        const onStream = (s: IncomingStream): void => {
          busy = busy.then(async () => {
            const h = s.header;
            try {
              const sink = recordDir ? new RecorderSink(join(recordDir, `${h.from ?? 'server'}--${h.song}`), { realtime: ctx.values.realtime === true, createDirs: true }) : await sinkFrom(ctx);
              const pcm = await playIncoming(s, sink);
              process.stdout.write(`received ${h.kind} of ${h.song} from ${h.from ?? 'server'}: ${fmtBytes(pcm)} of PCM to ${sink.description}\n`);
            } catch (err) {
              failed++;
              process.stderr.write(`stream ${h.song} from ${h.from ?? 'server'} failed: ${(err as Error).message}\n`);
            }
            if (++received >= count) resolve();
          });
        };
        c.on('stream', onStream);
        c.on('close', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      return failed > 0 || received < (Number.isFinite(count) ? count : 0) ? 1 : 0;
    });
  },
};

export const playOnCommand: Command = {
  name: 'play-on',
  args: 'CLIENT SONG',
  arity: [2, 2],
  options: { ...CLIENT_OPTIONS },
  async run(ctx) {
    return withClient(ctx, async (c) => {
      const [target, song] = ctx.positionals as [string, string];
      const ok = await c.playOn(target, song);
      process.stdout.write(`played ${song} on ${target}: ${fmtBytes(ok.bytes ?? 0)} delivered\n`);
      return 0;
    });
  },
};

export const sendToCommand: Command = {
  name: 'send-to',
  args: 'CLIENT FILE',
  arity: [2, 2],
  options: { ...CLIENT_OPTIONS },
  async run(ctx) {
    return withClient(ctx, async (c) => {
      const [target, file] = ctx.positionals as [string, string];
      const line = new ProgressLine();
      const ok = await c.sendTo(target, file, transferProgress(line, `sending ${basename(file)} to ${target}`));
      line.done();
      process.stdout.write(`sent ${basename(file)} to ${target} through the server: ${fmtBytes(ok.bytes ?? 0)} relayed\n`);
      return 0;
    });
  },
};
