import { NetkitError } from '../errors.js';
import { jsonLine } from '../internal/text.js';
import type { Io } from './io.js';
import { LineWriter } from './line-writer.js';

const COLORS = { dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;

/**
 * forceColor reads FORCE_COLOR as Node does: '', 1, 2, 3 or true turn
 * colour on wherever the output goes (`FORCE_COLOR=1 netkit … | less -R`),
 * NO_COLOR notwithstanding; any other value turns it off; unset leaves the
 * choice to the terminal test.
 */
function forceColor(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return ['', '1', '2', '3', 'true'].includes(value);
}

/**
 * Output writes a command's results: one JSON object per line on stdout
 * with --json, short human lines otherwise (colour only on a terminal, and
 * never when NO_COLOR is set; FORCE_COLOR overrides both). Diagnostics go to stderr in both modes so
 * stdout stays clean for data.
 */
export class Output {
  readonly json: boolean;
  readonly #io: Io;
  readonly #color: { stdout: boolean; stderr: boolean };
  /** #lines batches stdout between buffer() and the function it returns. */
  #lines: LineWriter | undefined;

  constructor(io: Io, json: boolean) {
    this.#io = io;
    this.json = json;
    // Colour only where a person is looking: each stream decides for itself, so `netkit tour | less` stays plain.
    const allowed = io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb';
    const forced = forceColor(io.env.FORCE_COLOR);
    this.#color = {
      stdout: forced ?? (allowed && Boolean(io.stdout.isTTY)),
      stderr: forced ?? (allowed && Boolean(io.stderr.isTTY)),
    };
  }

  /** colorful is true when stdout is a terminal that gets colour. */
  get colorful(): boolean {
    return this.#color.stdout;
  }

  /**
   * buffer makes stdout lines go out in batches, at the end of the event-loop turn (at most every WRITE_INTERVAL_MS under load),
   * for a server that prints a line per request (see LineWriter: order and
   * whole lines are kept, memory is bounded, a normal exit writes them
   * all). It returns the function that writes what is left and ends the
   * batching; notes and errors flush the batch before they are printed.
   */
  buffer(): () => void {
    // Only the call that started the batching ends it: a nested one must not cut it short.
    if (this.#lines !== undefined) return () => {};
    const lines = new LineWriter(this.#io.stdout);
    this.#lines = lines;
    return () => {
      if (this.#lines !== lines) return;
      this.#lines = undefined;
      lines.close();
    };
  }

  /** #out writes stdout text: through the batch while buffering, else at once. */
  #out(text: string): void {
    if (this.#lines) this.#lines.write(text);
    else this.#io.stdout.write(text);
  }

  /** event prints a machine event (--json) or its human line on stdout. */
  event(event: string, fields: Record<string, unknown>, human?: string): void {
    if (this.json) this.#out(`${jsonLine({ event, ...fields })}\n`);
    else if (human !== undefined) this.#out(`${human}\n`);
  }

  /** note prints a human diagnostic on stderr (or a JSON event on stdout with --json). */
  note(event: string, fields: Record<string, unknown>, human: string): void {
    if (this.json) this.#out(`${jsonLine({ event, ...fields })}\n`);
    this.#lines?.flush();
    if (!this.json) this.#io.stderr.write(`${human}\n`);
  }

  /** error reports a failure: `netkit: message [CODE]` on stderr, or an error event with --json. */
  error(err: unknown): void {
    const code = err instanceof NetkitError ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    if (this.json) this.#out(`${jsonLine({ event: 'error', code, message })}\n`);
    this.#lines?.flush();
    if (this.json) return;
    this.#io.stderr.write(
      `${this.paint('red', 'netkit:', 'stderr')} ${message}${code ? this.paint('dim', ` [${code}]`, 'stderr') : ''}\n`,
    );
  }

  /** paint colours text bound for `stream` when that stream is a terminal; plain otherwise. */
  paint(color: keyof typeof COLORS, text: string, stream: 'stdout' | 'stderr' = 'stdout'): string {
    return this.#color[stream] ? `\x1b[${COLORS[color]}m${text}\x1b[0m` : text;
  }
}
