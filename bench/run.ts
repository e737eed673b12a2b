/**
 * Benchmark harness: `npm run bench [name...] [-- --duration 5s --json]`.
 *
 * Discovers bench/*.bench.ts (each default-exports a Benchmark), runs the
 * chosen ones one after another, and prints a table per benchmark with
 * ratios against its anchors and pass/fail against the spec's targets (or,
 * with --json, one JSON line per row). Progress goes to stderr. The exit
 * status is 1 if a benchmark or a measurement failed; a missed target is
 * reported, not an error.
 */
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseBenchArgs, USAGE } from './lib/args.js';
import { killAll } from './lib/proc.js';
import { buildReport, renderJson, renderText } from './lib/report.js';
import { type BenchContext, type Benchmark, SkipBenchmark } from './lib/types.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');

function isBenchmark(v: unknown): v is Benchmark {
  const b = v as Partial<Benchmark> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.name === 'string' &&
    typeof b.description === 'string' &&
    typeof b.run === 'function' &&
    typeof b.table === 'function'
  );
}

/** discover imports every bench/*.bench.ts, sorted by file name. */
async function discover(): Promise<Benchmark[]> {
  const files = (await readdir(benchDir)).filter((f) => f.endsWith('.bench.ts')).sort();
  const out: Benchmark[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(benchDir, f)).href)) as { default?: unknown };
    if (!isBenchmark(mod.default)) {
      throw new Error(`bench/${f} must default-export { name, description, table, run }`);
    }
    out.push(mod.default);
  }
  return out;
}

function environmentLine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  return `netkit benchmarks — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} CPUs (${model})`;
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }

  const all = await discover();
  if (args.list) {
    for (const b of all) console.log(`${b.name.padEnd(10)} ${b.description}`);
    return 0;
  }
  const unknown = args.names.filter((n) => !all.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(
      `bench: unknown benchmark ${unknown.join(', ')}; available: ${all.map((b) => b.name).join(', ')}`,
    );
    if (unknown.some((n) => /^\d/.test(n))) {
      console.error(
        'bench: to pass a duration through npm, put it after "--": npm run bench -- --duration 2s',
      );
    }
    return 2;
  }
  const chosen = args.names.length === 0 ? all : all.filter((b) => args.names.includes(b.name));

  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    abort.abort();
    killAll();
    console.error(`bench: interrupted by ${sig}`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAll);

  const ctx: BenchContext = {
    root,
    cacheDir: path.join(root, '.cache', 'bench'),
    durationSec: args.durationSec,
    rounds: args.rounds,
    json: args.json,
    log: (message) => console.error(`  ${message}`),
    signal: abort.signal,
  };

  if (!args.json) console.log(`${environmentLine()}\n`);
  let status = 0;
  for (const b of chosen) {
    console.error(`bench: running ${b.name}`);
    const started = Date.now();
    try {
      const rows = await b.run(ctx);
      const report = buildReport(b.name, b.table(ctx), rows);
      if (args.json) for (const line of renderJson(report)) console.log(line);
      else console.log(`${renderText(report)}\n`);
      if (rows.some((r) => r.error)) status = 1;
    } catch (err) {
      if (err instanceof SkipBenchmark) {
        if (args.json) console.log(JSON.stringify({ bench: b.name, skipped: err.message }));
        else console.log(`${b.name}: skipped — ${err.message}\n`);
      } else {
        status = 1;
        const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
        if (args.json)
          console.log(JSON.stringify({ bench: b.name, error: String((err as Error)?.message ?? err) }));
        else console.log(`${b.name}: FAILED — ${msg}\n`);
      }
    }
    console.error(`bench: ${b.name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return status;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
