/**
 * Plain-text tables and number formatting.
 */

/** Align is the alignment of a column. */
export type Align = 'left' | 'right';

export interface TableColumn {
  header: string;
  align: Align;
}

/** width counts code points, so "µ" and "×" take one column each. */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'left' ? s + fill : fill + s;
}

/**
 * formatTable lays out rows under headers, columns separated by three
 * spaces. A null row prints as an empty line (a separator between groups).
 * A cell may overflow into the following empty cells of its row (used for
 * error messages), which keeps such rows readable.
 */
export function formatTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[] | null)[],
): string {
  const widths = columns.map((c) => width(c.header));
  for (const row of rows) {
    if (!row) continue;
    row.forEach((cell, i) => {
      // Cells followed only by empty cells may overflow; they do not widen the column.
      const overflow =
        row.slice(i + 1).every((c) => c === '') && i < columns.length - 1 && isOverflowCell(cell);
      if (!overflow) widths[i] = Math.max(widths[i] ?? 0, width(cell));
    });
  }
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => pad(cell, widths[i] ?? 0, columns[i]?.align ?? 'left'))
      .join('   ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header))];
  for (const row of rows) out.push(row ? line(row) : '');
  return out.join('\n');
}

/** Cells starting with "error:" or "skipped:" are free text that may overflow. */
function isOverflowCell(cell: string): boolean {
  return cell.startsWith('error:') || cell.startsWith('skipped:');
}

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** formatNumber prints n with `decimals` decimals and thousands separators. */
export function formatNumber(n: number, decimals = 0): string {
  if (!Number.isFinite(n)) return String(n);
  if (decimals === 0) return intFormat.format(Math.round(n));
  return new Intl.NumberFormat('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  }).format(n);
}

/** formatRatio prints a ratio as "0.98×", "3.42×" or "12.3×". */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '—';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** formatBytes prints a byte count as "64 B", "64 KiB", "1 MiB", "32.5 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[u]}`;
}
