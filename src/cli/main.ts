#!/usr/bin/env node
import { processIo } from './io.js';
import { runCli } from './program.js';

// The entry point only wires the real process to runCli; everything else is testable in-process.
const code = await runCli(process.argv.slice(2), processIo());
// A command is done when runCli returns: its sockets are closed. Exit now rather than
// wait for stdin, which may be an open terminal or pipe (ncat exits when the peer
// closes, too), once stdout has flushed.
process.exitCode = code;
process.stdout.write('', () => process.exit(code));
