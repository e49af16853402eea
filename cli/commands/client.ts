/** The client's actions as commands for scripts: list, play, upload, listen, play-on, send-to. */
import { basename, join } from 'node:path';
import { playSong } from '../../services/client/player.ts';
import { Receiver, takesManyStreams } from '../../services/client/receiver.ts';
import { RecorderSink } from '../../services/client/sinks/index.ts';
import { byteRateOf } from '../../services/common/wav.ts';
import type { AudioLabClient } from '../../services/client/client.ts';
import { AudioLabError } from '../../services/protocol/errors.ts';
import { int, str, type Command, type CommandContext } from '../command.ts';
import { CLIENT_OPTIONS, PLAYBACK_OPTIONS, cacheFrom, connectClient, describePlay, logUnderrun, onlineLine, playProgress, presenceLine, sinkFrom } from '../common.ts';
import { bar, fmtBytes, fmtMs, ProgressLine } from '../ui.ts';

/**
 * Connects, runs `fn`, and closes. Ctrl-C closes the connection, so whatever `fn` waits for fails
 * at once (the command then exits 130). `ownInterrupt`: `fn` answers Ctrl-C itself, telling its
 * peers before the connection closes.
 */
async function withClient(ctx: CommandContext, fn: (c: AudioLabClient) => Promise<number>, options: { quiet?: boolean; ownInterrupt?: boolean } = {}): Promise<number> {
  const client = await connectClient(ctx, options.quiet);
  const hangUp = (): void => { if (!options.ownInterrupt) void client.close('interrupted').catch(() => {}); };
  ctx.signal.addEventListener('abort', hangUp);
  try {
    return await fn(client);
  } finally {
    ctx.signal.removeEventListener('abort', hangUp);
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
    }, { quiet: ctx.values.json === true });
  },
};

export const playCommand: Command = {
  name: 'play',
  args: 'SONG',
  arity: [1, 1],
  options: { ...CLIENT_OPTIONS, ...PLAYBACK_OPTIONS },
  examples: ['audiolab play ode-to-joy.wav', 'audiolab play ode-to-joy.wav --sink wav:out.wav --realtime'],
  async run(ctx) {
    // a bad --sink is said before connecting
    const sink = await sinkFrom(ctx);
    return withClient(ctx, async (c) => {
      const line = new ProgressLine();
      const song = ctx.positionals[0]!;
      const rate = (): number => {
        const info = c.catalog?.find((s) => s.name === song);
        return info ? byteRateOf(info) : 0;
      };
      const r = await playSong(c, song, { cache: cacheFrom(ctx), sink, onProgress: playProgress(line, song, rate), signal: ctx.signal });
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
  details: [
    'With --record-dir each received stream is recorded to DIR/<from>--<song>, several at once; with one',
    'device or wav: file, a stream offered while another plays is refused as busy (its sender is told).',
    'A recording appears under its name only when complete. Stops after --count streams, or at Ctrl-C',
    '(exit 130: streams in progress are stopped and their senders told). Exits 1 if the server goes away',
    'or a stream failed.',
  ].join('\n'),
  options: {
    ...CLIENT_OPTIONS, ...PLAYBACK_OPTIONS,
    count: { type: 'string', short: 'c', help: 'Exit after receiving this many streams', placeholder: 'N' },
    'record-dir': { type: 'string', help: 'Record every received stream into this folder', placeholder: 'DIR' },
    refuse: { type: 'boolean', help: 'Refuse every stream (to see what senders are told)' },
  },
  async run(ctx) {
    const count = int(ctx, 'count', Infinity);
    const recordDir = str(ctx, 'record-dir');
    const sinkSpec = str(ctx, 'sink') ?? 'auto';
    if (!recordDir) await sinkFrom(ctx); // a bad --sink is said before connecting
    return withClient(ctx, async (c) => {
      const refuse = ctx.values.refuse === true;
      const receiver = new Receiver(c, {
        maxConcurrent: takesManyStreams(sinkSpec, recordDir) ? 8 : 1,
        ...(refuse ? { refuse: 'refusing all streams (listen --refuse)' } : {}),
        sinkFor: (h) => (recordDir
          ? Promise.resolve(new RecorderSink(join(recordDir, `${h.from ?? 'server'}--${h.song}`), { realtime: ctx.values.realtime === true, createDirs: true, onUnderrun: logUnderrun }))
          : sinkFrom(ctx)),
        onAccept: (inv) => process.stderr.write(`${inv.from} ${inv.kind === 'relay' ? 'sends you' : 'plays'} ${inv.song} (${fmtBytes(inv.size)})\n`),
      });
      c.on('presence', (event, who) => process.stderr.write(`${presenceLine(event, who)}\n`));
      c.on('online', (online, changes) => process.stderr.write(`${onlineLine(online, changes)}\n`));
      await c.listen(!refuse);
      process.stderr.write(refuse
        ? `Connected as ${c.me?.name ?? ''}, refusing every stream: senders are told so.\n`
        : `Listening as ${c.me?.name ?? ''}${c.me ? ` (${c.me.address})` : ''}. Other clients can now play songs on you or send you theirs.\n`);
      let received = 0;
      let failed = 0;
      const serverGone = await new Promise<AudioLabError | undefined>((resolve) => {
        const counted = (): void => { if (received + failed >= count) resolve(undefined); };
        receiver.on('received', (h, pcm, sink) => {
          received++;
          process.stdout.write(`received ${h.kind} of ${h.song} from ${h.from ?? 'server'}: ${fmtBytes(pcm)} of PCM to ${sink.description}${ctx.values.realtime === true ? `, ${sink.stats().underruns.length} underrun(s)` : ''}\n`);
          counted();
        });
        receiver.on('failed', (h, e) => {
          if (ctx.signal.aborted) return;
          failed++;
          process.stderr.write(`stream ${h.song} from ${h.from ?? 'server'} failed (${e.code}): ${e.message}; nothing was kept\n`);
          counted();
        });
        c.on('close', (err) => resolve(err ?? new AudioLabError('AUDIOLAB_ERR_CONNECTION', 'The server closed the connection')));
        ctx.signal.addEventListener('abort', () => resolve(undefined));
      });
      await receiver.stop(ctx.signal.aborted ? 'the receiver was interrupted (Ctrl-C)' : 'the receiver is leaving');
      if (serverGone && !ctx.signal.aborted) {
        throw new AudioLabError(serverGone.code, `${serverGone.message}. Nothing partial was kept. Is the server running? Start it (audiolab server), then listen again.`);
      }
      return failed > 0 || received < (Number.isFinite(count) ? count : 0) ? 1 : 0;
    }, { ownInterrupt: true });
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
