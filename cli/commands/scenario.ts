import { writeFile } from 'node:fs/promises';
import { loadScenario, runScenario } from '../../services/client/scenario.ts';
import { AudioLabError } from '../../services/protocol/errors.ts';
import { str, type Command } from '../command.ts';
import { fmtMs } from '../ui.ts';

export const scenarioCommand: Command = {
  name: 'scenario',
  args: 'FILE',
  arity: [1, 1],
  details: 'Prints one line per step and exits 1 at the first step that fails. See scenarios/ for examples and docs/scenarios.md for every step. An unreadable or invalid file exits 2.',
  options: {
    server: { type: 'string', short: 's', help: 'Server address (overrides the file\'s; without either, $AUDIOLAB_SERVER, else 127.0.0.1:5050)', placeholder: 'HOST:PORT' },
    name: { type: 'string', short: 'n', help: 'Client name (overrides the file)', placeholder: 'NAME' },
    bind: { type: 'string', help: 'Local address to connect from (overrides the file)', placeholder: 'IP' },
    report: { type: 'string', help: 'Write every step\'s result as JSON to FILE', placeholder: 'FILE' },
  },
  examples: ['audiolab scenario scenarios/client-a.json --server 127.0.0.1:5050'],
  async run(ctx) {
    // a file that cannot be read or is not a scenario is a usage error (exit 2), not a failed run
    const sc = await loadScenario(ctx.positionals[0]!).catch((err: unknown) => {
      throw new AudioLabError('AUDIOLAB_ERR_USAGE', (err as Error).message);
    });
    // --server, else the file's "server", else $AUDIOLAB_SERVER, else 127.0.0.1:5050
    const server = str(ctx, 'server') ?? (sc.server ? undefined : process.env.AUDIOLAB_SERVER);
    const name = str(ctx, 'name');
    const bind = str(ctx, 'bind');
    if (bind) sc.bind = bind;
    const { ok, results } = await runScenario(sc, {
      ...(server ? { server } : {}), ...(name ? { name } : {}),
      onStep: (r) => process.stdout.write(`[${r.ok ? ' ok ' : 'FAIL'}] ${String(r.index + 1).padStart(2)} ${r.step.do.padEnd(8)} ${fmtMs(r.ms).padStart(8)}  ${r.detail}${r.error ? ` (${r.error.code})` : ''}\n`),
    });
    const report = str(ctx, 'report');
    if (report) await writeFile(report, JSON.stringify({ ok, client: name ?? sc.name, results }, null, 2));
    return ok ? 0 : 1;
  },
};
