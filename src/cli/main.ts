#!/usr/bin/env node
import { processIo } from './io.js';
import { runCli } from './program.js';

// The entry point only wires the real process to runCli; everything else is testable in-process.
const code = await runCli(process.argv.slice(2), processIo());
process.exitCode = code;
// Servers and clients close their sockets themselves; stdin may still hold the loop open.
process.stdin.unref?.();
if (code !== 0) setTimeout(() => process.exit(code), 50).unref();
