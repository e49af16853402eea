/** `audiolab`: one CLI, with subcommands. Only this module decides exit codes. */
import { AudioLabError, toAudioLabError } from '../errors.ts';
import { EXIT, helpText, parseCommandArgs, type Command } from './command.ts';
import { printError } from './ui.ts';
import { serverCommand } from './commands/server.ts';
import { listCommand, listenCommand, playCommand, playOnCommand, sendToCommand, uploadCommand } from './commands/client.ts';
import { menuCommand } from './commands/menu.ts';
import { scenarioCommand } from './commands/scenario.ts';
import { musicCommand } from './commands/music.ts';
import { analyzeCommand } from './commands/analyze.ts';

export const COMMANDS: Command[] = [
  serverCommand, menuCommand, listCommand, playCommand, uploadCommand, listenCommand, playOnCommand, sendToCommand,
  scenarioCommand, analyzeCommand, musicCommand,
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
    'Exit codes: 0 success, 1 the operation failed (an AUDIOLAB_ERR_* code is printed), 2 usage error, 130 interrupted.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    if (process.stdin.isTTY) return run(menuCommand, []);
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
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`audiolab: unknown command ${JSON.stringify(name)}\n\n${mainHelp()}\n`);
    return EXIT.USAGE;
  }
  return run(cmd, rest);
}

async function run(cmd: Command, argv: string[]): Promise<number> {
  try {
    const ctx = parseCommandArgs(cmd, argv);
    if (ctx === 'help') {
      process.stdout.write(helpText(cmd) + '\n');
      return EXIT.OK;
    }
    return await cmd.run(ctx);
  } catch (err) {
    const e = err instanceof AudioLabError ? err : toAudioLabError(err);
    printError(e);
    if (e.code === 'AUDIOLAB_ERR_USAGE') {
      process.stderr.write(`Try: audiolab ${cmd.name} --help\n`);
      return EXIT.USAGE;
    }
    return EXIT.FAILED;
  }
}
