import type { Readable, Writable } from 'node:stream';

/**
 * Io is everything a command touches outside itself, so commands run the
 * same from the real terminal and in-process from tests.
 */
export interface Io {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: Record<string, string | undefined>;
  /** signal aborts on SIGINT/SIGTERM; commands close cleanly when it fires. */
  readonly signal: AbortSignal;
}

/**
 * OUTPUT_CLOSED is the abort reason when whoever reads our output went away
 * (`netkit states --watch | head -2`): a normal end, not an interruption.
 */
export const OUTPUT_CLOSED = 'output closed';

/** processIo is the Io of the running process, with SIGINT/SIGTERM wired to its signal. */
export function processIo(): Io {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    // A second Ctrl-C means "now": skip the graceful path.
    if (interrupts > 1) process.exit(130);
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whoever reads our output went away (`netkit tcp serve | head -1`): like a
  // Unix tool on SIGPIPE, stop — but gracefully, closing connections with FIN —
  // instead of dying on an unhandled EPIPE.
  const onOutputError = () => {
    if (!controller.signal.aborted) controller.abort(OUTPUT_CLOSED);
  };
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  };
}
