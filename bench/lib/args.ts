/**
 * Command-line arguments of bench/run.ts.
 */
import { parseArgs } from 'node:util';

export interface BenchArgs {
  /** names are the benchmarks to run; empty means all. */
  names: string[];
  json: boolean;
  /** durationSec is the measured duration of one load run. */
  durationSec: number;
  /** rounds is how many times each load run is repeated (the median is reported). */
  rounds: number;
  list: boolean;
  help: boolean;
}

export const DEFAULT_DURATION_SEC = 5;

export const USAGE = `usage: npm run bench [-- [name...] [--duration <d>] [--json] [--list]]
       node --import tsx bench/run.ts [name...] [options]

Runs the benchmarks in bench/*.bench.ts (all of them, or those named).

options:
  --duration <d>   measured duration of each load run: 5s (default), 2s, 1500ms, 1m
  --rounds <n>     repeat each load run n times, interleaved, and report the median (default 1)
  --json           print results as JSON lines (one per row) instead of tables
  --list           list the benchmarks and exit
  -h, --help       show this help

npm consumes flags itself unless they follow "--": npm run bench -- tcp --duration 2s`;

/**
 * parseDuration accepts "5s", "1500ms", "1m", "2.5s" or a bare number of
 * seconds, between 0.1 s and 10 min, and returns seconds.
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`--duration: cannot parse ${JSON.stringify(text)}; use e.g. 5s, 1500ms, 1m`);
  const n = Number(m[1]);
  const sec = m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
  if (sec < 0.1 || sec > 600) throw new Error(`--duration: ${text} is outside 100ms..10m`);
  return sec;
}

/** parseRounds accepts an integer from 1 to 20. */
export function parseRounds(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 20) {
    throw new Error(`--rounds: ${JSON.stringify(text)} is not an integer from 1 to 20`);
  }
  return n;
}

/** formatDuration prints seconds the way Go's -duration flag accepts them: "5s", "1500ms". */
export function formatDuration(sec: number): string {
  const ms = Math.round(sec * 1000);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * parseBenchArgs parses argv (without node and the script). When npm ate
 * the flags (`npm run bench --json`, forgetting "--"), npm passes them on
 * as npm_config_* environment variables, which are honoured as fallbacks.
 */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv): BenchArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const fromNpm = env.npm_lifecycle_event === 'bench';
  const envJson = fromNpm && env.npm_config_json === 'true';
  const envList = fromNpm && env.npm_config_list === 'true';
  // `npm run bench --duration=2s` arrives as "2s"; `--duration 2s` as "true" (and "2s" as a name).
  const envDuration = fromNpm ? env.npm_config_duration : undefined;
  const envRounds = fromNpm ? env.npm_config_rounds : undefined;
  const rounds = values.rounds ?? (envRounds && envRounds !== 'true' ? envRounds : undefined);
  const duration = values.duration ?? (envDuration && envDuration !== 'true' ? envDuration : undefined);
  return {
    names: positionals,
    json: values.json ?? envJson,
    durationSec: duration === undefined ? DEFAULT_DURATION_SEC : parseDuration(duration),
    rounds: rounds === undefined ? 1 : parseRounds(rounds),
    list: values.list ?? envList,
    help: values.help ?? false,
  };
}
