/**
 * Turning a benchmark's raw Rows into ratios, target verdicts, and output:
 * a text table or JSON lines.
 */
import { formatNumber, formatRatio, formatTable, type TableColumn } from './table.js';
import type { Row, TableSpec, Target } from './types.js';

/** Verdict is one target evaluated in one case. */
export interface Verdict {
  target: Target;
  case: string;
  /** ratio is null when a row is missing or failed, so the target could not be judged. */
  ratio: number | null;
  pass: boolean | null;
}

/** Report is everything printed for one benchmark. */
export interface Report {
  bench: string;
  spec: TableSpec;
  rows: readonly Row[];
  verdicts: readonly Verdict[];
}

function findRow(rows: readonly Row[], subject: string, c: string): Row | undefined {
  return rows.find((r) => r.subject === subject && r.case === c);
}

/** ratio returns metric(row) / metric(baseline of the same case), or null if either is unavailable. */
export function ratio(rows: readonly Row[], row: Row, metric: string, baseline: string): number | null {
  const base = findRow(rows, baseline, row.case);
  const a = row.metrics[metric];
  const b = base?.metrics[metric];
  if (row.error || base === undefined || base.error || a === undefined || b === undefined || b <= 0)
    return null;
  return a / b;
}

function cases(rows: readonly Row[]): string[] {
  return [...new Set(rows.map((r) => r.case))];
}

/** buildReport evaluates every target in every case that has a row for its subject. */
export function buildReport(bench: string, spec: TableSpec, rows: readonly Row[]): Report {
  const verdicts: Verdict[] = [];
  for (const target of spec.targets) {
    for (const c of cases(rows)) {
      if (target.cases && !target.cases.includes(c)) continue;
      const row = findRow(rows, target.subject, c);
      if (!row) continue;
      // A target whose baseline is not part of this case does not apply to it.
      if (!findRow(rows, target.baseline, c)) continue;
      const r = ratio(rows, row, target.metric, target.baseline);
      verdicts.push({ target, case: c, ratio: r, pass: r === null ? null : r >= target.min });
    }
  }
  return { bench, spec, rows, verdicts };
}

function verdictWord(v: Verdict): string {
  if (v.pass === null) return 'n/a';
  return v.pass ? 'pass' : 'FAIL';
}

/** shortfall says how far below its target a ratio is, e.g. "4.2% below target". */
export function shortfall(v: Verdict): string {
  if (v.ratio === null || v.pass !== false) return '';
  return `${((1 - v.ratio / v.target.min) * 100).toFixed(1)}% below target`;
}

function caseLabel(spec: TableSpec, c: string): string {
  return `${spec.caseHeader} ${c}`;
}

/** renderText returns the report as a titled table followed by target verdicts and notes. */
export function renderText(rep: Report): string {
  const { spec, rows } = rep;
  const hasTargets = spec.targets.length > 0;
  const columns: TableColumn[] = [
    { header: spec.subjectHeader, align: 'left' },
    { header: spec.caseHeader, align: 'right' },
    ...spec.metrics.map((m) => ({ header: m.header, align: 'right' as const })),
    ...spec.ratios.map((r) => ({ header: r.header, align: 'right' as const })),
    ...(hasTargets ? [{ header: 'target', align: 'left' as const }] : []),
  ];
  const lines: (string[] | null)[] = [];
  let lastCase: string | undefined;
  for (const row of rows) {
    if (lastCase !== undefined && row.case !== lastCase) lines.push(null);
    lastCase = row.case;
    const cells = [row.subject, row.case];
    if (row.error) {
      const first = row.error.split('\n')[0] ?? '';
      cells.push(`error: ${first}`);
      while (cells.length < columns.length) cells.push('');
    } else if (row.skipped) {
      cells.push(`skipped: ${row.skipped}`);
      while (cells.length < columns.length) cells.push('');
    } else {
      for (const m of spec.metrics) {
        const v = row.metrics[m.key];
        cells.push(v === undefined ? '' : formatNumber(v, m.decimals ?? 0));
      }
      for (const rc of spec.ratios) {
        const r = ratio(rows, row, rc.metric, rc.baseline);
        cells.push(r === null ? '' : formatRatio(r));
      }
      if (hasTargets) {
        const mine = rep.verdicts.filter((v) => v.case === row.case && v.target.subject === row.subject);
        cells.push(mine.map((v) => `${v.target.short} ${verdictWord(v)}`).join('; '));
      }
    }
    lines.push(cells);
  }
  const out = [spec.title, formatTable(columns, lines)];

  if (rep.verdicts.length > 0) {
    out.push('');
    for (const target of spec.targets) {
      const vs = rep.verdicts.filter((v) => v.target === target);
      if (vs.length === 0) continue;
      const parts = vs.map((v) => {
        const r = v.ratio === null ? 'no result' : formatRatio(v.ratio);
        const short = shortfall(v);
        return `${caseLabel(spec, v.case)}: ${r} ${verdictWord(v)}${short ? ` (${short})` : ''}`;
      });
      out.push(
        `target: ${target.subject} ≥ ${formatRatio(target.min)} ${target.baseline} (${target.metric}) — ${parts.join('; ')}`,
      );
    }
  }
  const failed = rows.filter((r) => r.error);
  if (failed.length > 0) {
    out.push('');
    for (const r of failed)
      out.push(`error in ${r.subject} (${caseLabel(spec, r.case)}):\n  ${r.error!.replace(/\n/g, '\n  ')}`);
  }
  const warned = rows.filter((r) => r.warnings && r.warnings.length > 0);
  if (warned.length > 0) {
    out.push('');
    for (const r of warned) {
      for (const w of r.warnings!) out.push(`warning (${r.subject}, ${caseLabel(spec, r.case)}): ${w}`);
    }
  }
  if (spec.notes && spec.notes.length > 0) {
    out.push('');
    for (const n of spec.notes) out.push(n);
  }
  return out.join('\n');
}

/** renderJson returns one JSON line per row, with ratios and target verdicts resolved. */
export function renderJson(rep: Report): string[] {
  return rep.rows.map((row) => {
    const ratios: Record<string, number | null> = {};
    for (const rc of rep.spec.ratios) {
      if (findRow(rep.rows, rc.baseline, row.case))
        ratios[rc.header] = ratio(rep.rows, row, rc.metric, rc.baseline);
    }
    const targets = rep.verdicts
      .filter((v) => v.case === row.case && v.target.subject === row.subject)
      .map((v) => ({
        baseline: v.target.baseline,
        metric: v.target.metric,
        min: v.target.min,
        ratio: v.ratio,
        pass: v.pass,
      }));
    return JSON.stringify({
      bench: rep.bench,
      subject: row.subject,
      case: row.case,
      params: row.params ?? {},
      metrics: row.metrics,
      ratios,
      targets,
      ...(row.error ? { error: row.error } : {}),
      ...(row.skipped ? { skipped: row.skipped } : {}),
      ...(row.warnings ? { warnings: row.warnings } : {}),
      ...(row.detail ? { detail: row.detail } : {}),
    });
  });
}
