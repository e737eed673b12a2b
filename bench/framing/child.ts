/**
 * One framing measurement in a fresh process, so no decoder runs with JIT
 * state (inline caches, optimized stream internals) left by another:
 *
 *   node --expose-gc --import tsx bench/framing/child.ts <case> <variant> <budgetMs> <maxRuns>
 *
 * Builds the case's input, then decodes it up to maxRuns times (at least
 * once, no new run once budgetMs is spent), checking every run's frames.
 * Prints one JSON line: {"ok":true,"runs":[seconds...]} or
 * {"ok":false,"error":"..."} (exit status 1).
 */
import { performance } from 'node:perf_hooks';
import { buildInput, CASES, decodeOnce, Sink, shapeOf, VARIANTS, type VariantId } from './cases.js';

async function main(argv: readonly string[]): Promise<number[]> {
  const [caseId, variantArg, budgetArg, runsArg] = argv;
  const c = CASES.find((x) => x.id === caseId);
  if (!c) throw new Error(`unknown case ${caseId}`);
  if (!variantArg || !(variantArg in VARIANTS)) throw new Error(`unknown variant ${variantArg}`);
  const variant = variantArg as VariantId;
  const budgetMs = Number(budgetArg);
  const maxRuns = Number(runsArg);
  if (!(budgetMs > 0) || !(maxRuns >= 1)) throw new Error('budgetMs and maxRuns must be positive');

  const shape = shapeOf(c);
  const chunks = buildInput(c);
  const runs: number[] = [];
  let spent = 0;
  while (runs.length < maxRuns && (runs.length === 0 || spent < budgetMs)) {
    // Start each run with a clean heap so one run's garbage is not billed to the next.
    globalThis.gc?.();
    const sink = new Sink(c.payloadBytes);
    const t0 = performance.now();
    await decodeOnce(c, variant, chunks, sink);
    const ms = performance.now() - t0;
    sink.check(shape);
    runs.push(ms / 1000);
    spent += ms;
  }
  return runs;
}

main(process.argv.slice(2)).then(
  (runs) => {
    process.stdout.write(`${JSON.stringify({ ok: true, runs })}\n`);
  },
  (err: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) })}\n`,
    );
    process.exitCode = 1;
  },
);
