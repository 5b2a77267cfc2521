#!/usr/bin/env node
// ktimers command line: `ktimers cyclictest [options]` (see `ktimers cyclictest --help`).
// Plain JS over the compiled package, so `npx ktimers` needs no TypeScript at run time.
import { main } from '../dist/cyclictest/cli.js';

process.exitCode = await main(process.argv.slice(2));
