#!/usr/bin/env node
/** Entry point of the `audiolab` command (Node 24 runs TypeScript directly by stripping types). */
import { main } from '../services/cli/main.ts';

process.on('SIGPIPE', () => process.exit(0));
const code = await main(process.argv.slice(2));
process.exitCode = code;
