/** `audiolab`: one CLI, with subcommands. Only this module decides exit codes. */
import { AudioLabError, toAudioLabError } from '../services/protocol/errors.ts';
import { EXIT, EXIT_LINE, helpText, parseCommandArgs, type Command } from './command.ts';
import { clearProgress, printError } from './ui.ts';

/**
 * The registry: every command's name and summary (the one source: --help, `audiolab --help` and
 * docs/commands.md take them from here). Commands load on demand, so `audiolab analyze` does not
 * pay for the audio stack's modules.
 */
export interface Entry { name: string; summary: string; load: () => Promise<Command> }

export const COMMANDS: Entry[] = [
  { name: 'server', summary: 'Run the audio server: catalog of a music folder, streams, uploads, play-on and relays.', load: async () => (await import('./commands/server.ts')).serverCommand },
  { name: 'menu', summary: 'The interactive client: a numbered menu of every action (the default when run in a terminal).', load: async () => (await import('./commands/menu.ts')).menuCommand },
  { name: 'list', summary: 'List the songs on the server.', load: async () => (await import('./commands/client.ts')).listCommand },
  { name: 'play', summary: 'Play a song while it downloads; it is cached, so a replay needs no network transfer.', load: async () => (await import('./commands/client.ts')).playCommand },
  { name: 'upload', summary: 'Upload a WAV file into the server\'s library.', load: async () => (await import('./commands/client.ts')).uploadCommand },
  { name: 'listen', summary: 'Wait as a receiver: accept songs other clients play on you or send you, and play them.', load: async () => (await import('./commands/client.ts')).listenCommand },
  { name: 'play-on', summary: 'Make the server play one of its songs on another (listening) client.', load: async () => (await import('./commands/client.ts')).playOnCommand },
  { name: 'send-to', summary: 'Send your own WAV file to another client through the server (a relay: the server stores nothing).', load: async () => (await import('./commands/client.ts')).sendToCommand },
  { name: 'scenario', summary: 'Run a scenario file (connect, list, play, upload, listen, play-on, send-to, wait, quit) without a terminal.', load: async () => (await import('./commands/scenario.ts')).scenarioCommand },
  { name: 'analyze', summary: 'Analyse a pcap/pcapng capture: every TCP connection, handshake, segment sizes, RTT, Wireshark\'s analysis flags.', load: async () => (await import('./commands/analyze.ts')).analyzeCommand },
  { name: 'compare', summary: 'Two lab runs side by side (say a clean and a lossy one), matched by role, with the differences in words.', load: async () => (await import('./commands/compare.ts')).compareCommand },
  { name: 'lab', summary: 'Run the lab: server, two clients and a capture; leaves runs/<run-id>/ (capture, manifest, recordings, analysis).', load: async () => (await import('./commands/lab.ts')).labCommand },
  { name: 'manifest', summary: 'Write a Docker lab run\'s manifest (lab.json) from what its containers recorded in hosts/.', load: async () => (await import('./commands/manifest.ts')).manifestCommand },
  { name: 'capture', summary: 'Capture packets live (libpcap through the cap module) into a pcap file, with live packet counts.', load: async () => (await import('./commands/capture.ts')).captureCommand },
  { name: 'gen-music', summary: 'Write the project\'s own songs (deterministic WAV files in several formats) into a folder.', load: async () => (await import('./commands/music.ts')).musicCommand },
];

export function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'audiolab — an audio-streaming system over TCP, and a lab for watching TCP at work.',
    '',
    'Usage: audiolab COMMAND [options]      (audiolab COMMAND --help for each command)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}${c.summary}`),
    '',
    EXIT_LINE,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    if (process.stdin.isTTY) return run(COMMANDS[1]!, []);
    process.stdout.write(mainHelp() + '\n');
    return EXIT.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('tcp-audio-lab 0.1.0\n');
    return EXIT.OK;
  }
  // `audiolab --name client-a`: options with no command are the menu's (the default command)
  if (name.startsWith('-')) return run(COMMANDS[1]!, argv);
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`audiolab: unknown command ${JSON.stringify(name)}\n\n${mainHelp()}\n`);
    return EXIT.USAGE;
  }
  return run(entry, rest);
}

/**
 * Runs one command. The first Ctrl-C (SIGINT) aborts the command's signal: it stops what it is
 * doing cleanly (nothing partial under a final name, a download kept for resume) and the exit
 * code is 130 whatever it returns; a second Ctrl-C exits at once.
 */
async function run(entry: Entry, argv: string[]): Promise<number> {
  const cmd = await entry.load();
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(EXIT.INTERRUPTED);
    interrupt.abort(new AudioLabError('AUDIOLAB_ERR_INTERRUPTED', 'Interrupted (Ctrl-C)'));
  };
  process.on('SIGINT', onSigint);
  try {
    const ctx = parseCommandArgs(cmd, argv, interrupt.signal);
    if (ctx === 'help') {
      process.stdout.write(helpText(cmd, entry.summary) + '\n');
      return EXIT.OK;
    }
    const code = await cmd.run(ctx);
    if (interrupt.signal.aborted) return interrupted();
    // only when nothing is left to write (on Linux, writes to files, pipes and terminals are synchronous)
    if (cmd.exitOnReturn && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
    return code;
  } catch (err) {
    if (interrupt.signal.aborted) return interrupted();
    const e = err instanceof AudioLabError ? err : toAudioLabError(err);
    printError(e);
    if (e.code === 'AUDIOLAB_ERR_USAGE') {
      process.stderr.write(`Try: audiolab ${cmd.name} --help\n`);
      return EXIT.USAGE;
    }
    return EXIT.FAILED;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function interrupted(): number {
  clearProgress();
  process.stderr.write('audiolab: interrupted (Ctrl-C); stopped cleanly.\n');
  return EXIT.INTERRUPTED;
}
