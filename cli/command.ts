/**
 * The command framework: each command declares its options once; parsing, --help text and usage
 * errors (exit 2) come from that declaration.
 */
import { AudioLabError } from '../services/protocol/errors.ts';

// Not `import { parseArgs } from 'node:util'`: importing a built-in as an ES module evaluates
// every export of it (streams, worker_threads and more) at every start; getBuiltinModule() leaves
// them unloaded (docs/analysis.md, Speed).
const { parseArgs } = process.getBuiltinModule('node:util');

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** How --help shows a default that depends on where it runs (the user's home, the process id, the environment). */
  defaultText?: string;
  help: string;
  placeholder?: string;
}

export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Aborted at the first Ctrl-C (SIGINT): the command stops cleanly and the exit code is 130. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** e.g. "SONG" or "CLIENT FILE" */
  args?: string;
  /** Minimum and maximum positionals. */
  arity?: [number, number];
  options: Record<string, OptionSpec>;
  details?: string;
  examples?: string[];
  run(ctx: CommandContext): Promise<number>;
  /**
   * The process may exit as soon as run() returns: it has written everything, synchronously or
   * awaited. Otherwise Node first waits for V8's background work to drain (compilations of
   * functions that became hot at the end).
   */
  exitOnReturn?: boolean;
}

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, INTERRUPTED: 130 } as const;

/** The exit codes in one line, for every --help (docs/commands.md has the table). */
export const EXIT_LINE = 'Exit codes: 0 success; 1 failed (an AUDIOLAB_ERR_* code and what to do are printed); 2 usage error; 130 interrupted (Ctrl-C), stopped cleanly.';

export const HELP_OPTION: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h', help: 'Show this help' } };

/** A command's --help: its usage line, its summary (from the registry, cli/main.ts), details, options, examples. */
export function helpText(cmd: Command, summary: string): string {
  const lines = [`Usage: audiolab ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''} [options]`, '', summary];
  if (cmd.details) lines.push('', cmd.details);
  const opts = Object.entries({ ...cmd.options, ...HELP_OPTION });
  if (opts.length > 0) {
    lines.push('', 'Options:');
    const rows = opts.map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.placeholder ?? 'VALUE'}` : ''}`;
      const def = o.defaultText !== undefined ? ` (default: ${o.defaultText})` : o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
      return [flag, o.help + def] as const;
    });
    const w = Math.max(...rows.map(([f]) => f.length)) + 2;
    for (const [f, h] of rows) lines.push(`  ${f.padEnd(w)}${h}`);
  }
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  lines.push('', EXIT_LINE);
  return lines.join('\n');
}

export function parseCommandArgs(cmd: Command, argv: string[], signal: AbortSignal = new AbortController().signal): CommandContext | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries({ ...cmd.options, ...HELP_OPTION }).map(([k, o]) => [k, {
        type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}),
      }])) as Parameters<typeof parseArgs>[0] extends infer P ? P extends { options?: infer O } ? O : never : never,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new AudioLabError('AUDIOLAB_ERR_USAGE', (err as Error).message);
  }
  if (parsed.values.help) return 'help';
  const [min, max] = cmd.arity ?? [0, 0];
  const n = parsed.positionals.length;
  if (n < min || n > max) {
    throw new AudioLabError('AUDIOLAB_ERR_USAGE', n < min ? `missing ${cmd.args ?? 'arguments'}` : `unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
  }
  return { values: parsed.values as CommandContext['values'], positionals: parsed.positionals, signal };
}

export const str = (ctx: CommandContext, name: string): string | undefined => {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
};

export function int(ctx: CommandContext, name: string, fallback: number): number {
  const v = str(ctx, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new AudioLabError('AUDIOLAB_ERR_USAGE', `--${name} wants a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}
