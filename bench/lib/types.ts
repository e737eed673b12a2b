/**
 * Contracts between bench/run.ts and the benchmarks (bench/*.bench.ts).
 *
 * A benchmark measures; it does not format. It returns raw Rows and
 * describes its table (a TableSpec); bench/lib/report.ts computes the
 * ratios and target verdicts and prints them as a table or as JSON lines.
 */

/** BenchContext is what run.ts hands every benchmark. */
export interface BenchContext {
  /** root is the absolute path of the repository (the folder holding package.json). */
  readonly root: string;
  /** cacheDir is where built helper binaries live (.cache/bench, gitignored). */
  readonly cacheDir: string;
  /** durationSec is the measured duration of one load run (--duration, default 5). */
  readonly durationSec: number;
  /** rounds is how many times each load run is repeated, interleaved (--rounds, default 1); the median is reported. */
  readonly rounds: number;
  /** json is true with --json: stdout carries JSON lines only, progress goes to stderr. */
  readonly json: boolean;
  /** log prints a progress line to stderr. */
  log(message: string): void;
  /** signal aborts when the harness is interrupted (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
}

/**
 * Row is one measurement: one subject (the implementation measured) in one
 * case (the conditions). Ratios compare rows of the same case.
 */
export interface Row {
  /** subject names what was measured, e.g. "netkit --workers 2". */
  subject: string;
  /** case names the conditions, e.g. "1" (connections) or "len32, 64 B". */
  case: string;
  /** metrics are the measured numbers, keyed as in the TableSpec. */
  metrics: Record<string, number>;
  /** error is set (and metrics left empty) when the measurement failed. */
  error?: string;
  /** skipped is set (and metrics left empty) when one subject's prerequisite (a tool) is missing; not a failure. */
  skipped?: string;
  /** params are the case's parameters in machine-readable form, for --json. */
  params?: Record<string, string | number>;
  /** detail is extra machine-readable data for --json (raw tool output, run times). */
  detail?: Record<string, unknown>;
  /** warnings are printed under the table (e.g. a server that was slow to exit). */
  warnings?: string[];
}

/** MetricColumn prints one metric. */
export interface MetricColumn {
  key: string;
  header: string;
  /** decimals printed (default 0); integers get thousands separators. */
  decimals?: number;
}

/** RatioColumn prints metric(row) / metric(baseline row of the same case). */
export interface RatioColumn {
  header: string;
  metric: string;
  /** baseline is the subject the ratio is relative to. */
  baseline: string;
}

/**
 * Target is a goal from the spec: in every case where both rows exist,
 * metric(subject) / metric(baseline) must be at least `min`.
 */
export interface Target {
  subject: string;
  baseline: string;
  metric: string;
  min: number;
  /** short is the text printed in the table, e.g. "≥ 0.95× node:net". */
  short: string;
  /** cases, when set, limits the target to these cases (by Row.case); by default it applies to every case. */
  cases?: readonly string[];
}

/** TableSpec describes how a benchmark's rows are printed. */
export interface TableSpec {
  /** title is the heading above the table. */
  title: string;
  subjectHeader: string;
  caseHeader: string;
  metrics: readonly MetricColumn[];
  ratios: readonly RatioColumn[];
  targets: readonly Target[];
  /** notes are printed under the table. */
  notes?: readonly string[];
}

/** Benchmark is what a bench/*.bench.ts file default-exports. */
export interface Benchmark {
  /** name selects the benchmark on the command line (`npm run bench <name>`). */
  name: string;
  /** description is one line for --list. */
  description: string;
  /** table describes the output; a function so it can depend on the context (e.g. duration). */
  table(ctx: BenchContext): TableSpec;
  /** run measures and returns one Row per subject and case. Throw SkipBenchmark when a prerequisite is missing. */
  run(ctx: BenchContext): Promise<Row[]>;
}

/** SkipBenchmark is thrown by run() when a prerequisite is missing; run.ts prints the message and moves on. */
export class SkipBenchmark extends Error {
  override name = 'SkipBenchmark';
}
