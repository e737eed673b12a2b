#!/usr/bin/env node
import module from 'node:module';

// On Node 22.1 and later, keep V8's compiled code for netkit's modules on disk
// (as TypeScript's tsc does), so a command does not compile them again on
// every start; compiling is the largest part of a short command's start-up.
// Node 20 has no such cache and skips this; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const argv = process.argv.slice(2);

// `netkit --version` alone answers without loading commander or any command:
// scripts call it to probe for netkit, and it should cost little more than
// starting node. Anything else (`-V` among other flags) goes through commander.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const { VERSION } = await import('./version.js');
  process.stdout.write(`${VERSION}\n`, () => process.exit(0));
} else {
  // The entry point only wires the real process to runCli; everything else is testable in-process.
  // A short-lived client command runs from its bundle when the build made one
  // and it is current (see bundle.ts); everything else loads dist/ as tsc wrote it.
  const { bundleFor } = await import('./bundle.js');
  const bundle = bundleFor(new URL('./bundles/', import.meta.url), argv);
  const { runCli, processIo } = (await import(
    bundle?.href ?? './program.js'
  )) as typeof import('./program.js');
  const code = await runCli(argv, processIo());
  // A command is done when runCli returns: its sockets are closed. Exit now rather than
  // wait for stdin, which may be an open terminal or pipe (ncat exits when the peer
  // closes, too), once stdout has flushed.
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}
