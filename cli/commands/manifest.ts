/** `audiolab manifest RUN_DIR`: assemble a Docker lab run's lab.json (the analysis container runs it). */
import { buildDockerManifest } from '../../lab/manifest.ts';
import type { Command } from '../command.ts';

export const manifestCommand: Command = {
  name: 'manifest',
  args: 'RUN_DIR',
  arity: [1, 1],
  details: 'Hosts (role, IP, MAC, interface, offload state), kernel, the capture (tool, version, filter), the impairment profile with what was applied and what this kernel could not do, the scenario and the recordings. Run by the lab\'s analysis container; `audiolab lab --runtime docker` adds image ids and versions.',
  options: {},
  examples: ['audiolab manifest runs/latest'],
  async run(ctx) {
    const m = await buildDockerManifest(ctx.positionals[0]!);
    process.stdout.write(`wrote ${ctx.positionals[0]}/lab.json (${(m.hosts as unknown[]).length} hosts, profile ${(m.impairments as { profile: string }).profile})\n`);
    return 0;
  },
};
