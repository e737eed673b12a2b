import { readdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Chapter, TourCheckError, type TourContext } from './chapter.js';

/** TourEvents receives the tour's progress; the CLI prints it. */
export interface TourReporter {
  chapterStart(n: number, title: string): void;
  line(text: string): void;
  chapterEnd(
    n: number,
    title: string,
    result: { ok: boolean; ms: number; error?: Error; facts: Record<string, unknown> },
  ): void;
}

/** ChapterEntry is a chapter with its number in the full tour (1-based) and its file's slug (`sticky-packets`). */
export interface ChapterEntry {
  readonly n: number;
  readonly slug: string;
  readonly chapter: Chapter;
}

/** loadChapters imports every chapter in ./chapters, ordered by file name. */
export async function loadChapters(): Promise<ChapterEntry[]> {
  const dir = new URL('./chapters/', import.meta.url);
  const files = (await readdir(fileURLToPath(dir)))
    .filter((f) => /^\d+-[\w-]+\.(js|ts)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const entries: ChapterEntry[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(fileURLToPath(new URL(f, dir))).href)) as { default: Chapter };
    entries.push({
      n: entries.length + 1,
      slug: f.replace(/^\d+-/, '').replace(/\.(js|ts)$/, ''),
      chapter: mod.default,
    });
  }
  return entries;
}

/**
 * selectChapters picks chapters by number (as `--list` shows them) or slug,
 * in tour order; it returns the selectors that match none as `unknown`.
 */
export function selectChapters(
  all: readonly ChapterEntry[],
  selectors: readonly string[],
): { chosen: ChapterEntry[]; unknown: string[] } {
  const matches = (e: ChapterEntry, s: string) => s === e.slug || s === String(e.n);
  return {
    chosen: selectors.length === 0 ? [...all] : all.filter((e) => selectors.some((s) => matches(e, s))),
    unknown: selectors.filter((s) => !all.some((e) => matches(e, s))),
  };
}

/**
 * runTour runs the chosen chapters (all when `only` is empty; numbers or
 * slugs) one after another, each under its number in the full tour, and
 * resolves with how many passed and failed.
 */
export async function runTour(options: {
  only?: readonly string[];
  signal: AbortSignal;
  reporter: TourReporter;
}): Promise<{ passed: number; failed: number }> {
  const all = await loadChapters();
  const { chosen } = selectChapters(all, options.only ?? []);
  let passed = 0;
  let failed = 0;
  for (const { n, chapter } of chosen) {
    if (options.signal.aborted) break;
    const facts: Record<string, unknown> = {};
    const t: TourContext = {
      say: (text) => options.reporter.line(text),
      check: (ok, what) => {
        if (!ok) throw new TourCheckError(what);
      },
      fact: (name, value) => {
        facts[name] = value;
      },
      signal: options.signal,
    };
    options.reporter.chapterStart(n, chapter.title);
    const start = performance.now();
    try {
      await chapter.run(t);
      passed++;
      options.reporter.chapterEnd(n, chapter.title, { ok: true, ms: performance.now() - start, facts });
    } catch (err) {
      failed++;
      options.reporter.chapterEnd(n, chapter.title, {
        ok: false,
        ms: performance.now() - start,
        error: err as Error,
        facts,
      });
    }
  }
  return { passed, failed };
}
