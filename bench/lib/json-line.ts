/**
 * lastJsonLine reads the last line of a load generator's stdout that is a
 * JSON object, and returns it when every key in `numeric` holds a number;
 * null otherwise (no line, bad JSON, a missing field), which fails the row.
 */
export function lastJsonLine<T>(stdout: string, numeric: readonly string[]): T | null {
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) return null;
  try {
    const r = JSON.parse(line) as Record<string, unknown>;
    return numeric.every((k) => typeof r[k] === 'number') ? (r as T) : null;
  } catch {
    return null;
  }
}
