// The architecture's never-rules (docs/design.md), checked in the lint step: `npm run lint`.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'protocol-imports-nothing',
      comment: 'services/protocol is the one protocol definition: it imports no other part of the project',
      severity: 'error',
      from: { path: '^services/protocol/' },
      to: { path: '^(bin|cli|lab|services|analysis|capture|music|bench|test|scripts)/', pathNot: '^services/protocol/' },
    },
    {
      name: 'server-not-client',
      comment: 'server and client never import each other: shared code lives in services/common or services/protocol',
      severity: 'error',
      from: { path: '^services/server/' },
      to: { path: '^services/client/' },
    },
    {
      name: 'client-not-server',
      comment: 'server and client never import each other: shared code lives in services/common or services/protocol',
      severity: 'error',
      from: { path: '^services/client/' },
      to: { path: '^services/server/' },
    },
    {
      name: 'services-stand-alone',
      comment: 'the streaming system imports nothing of the analysis, the capture, the lab or the CLI',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^(analysis|capture|lab|cli|bin|bench|test|scripts)/' },
    },
    {
      name: 'analysis-takes-only-the-protocol',
      comment: 'the analysis takes from services/ only the protocol, and nothing of capture/, lab/ or cli/',
      severity: 'error',
      from: { path: '^analysis/' },
      to: { path: '^(services/(?!protocol/)|capture/|lab/|cli/|bin/|bench/|test/)' },
    },
    {
      name: 'capture-stands-alone',
      comment: 'capture/ imports no endpoint (server, client, common), no analysis, lab or CLI: only the protocol',
      severity: 'error',
      from: { path: '^capture/' },
      to: { path: '^(services/(?!protocol/)|analysis/|lab/|cli/|bin/|bench/|test/)' },
    },
    {
      name: 'lab-not-cli',
      comment: 'the lab\'s orchestration never imports the CLI (only bin/ and cli/ set exit codes)',
      severity: 'error',
      from: { path: '^lab/' },
      to: { path: '^(cli|bin)/' },
    },
    {
      name: 'product-not-tests-or-bench',
      comment: 'the product never imports the tests or the benchmarks',
      severity: 'error',
      from: { path: '^(bin|cli|lab|services|analysis|capture|music)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|runs|\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js'] },
  },
};
