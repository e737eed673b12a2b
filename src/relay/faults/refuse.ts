import type { ToxicSpec } from './spec.js';

/**
 * refuses rolls each `refuse` toxic in `specs` once and says whether the
 * new connection is to be reset at accept, before any target is dialled.
 * A toxic's toxicity is the share of connections it refuses, so toxicity 0
 * never refuses and 1 always does; other types are ignored, whatever
 * their stream. `random` is Math.random's shape (tests pass their own).
 */
export function refuses(specs: readonly ToxicSpec[], random: () => number = Math.random): boolean {
  for (const s of specs) {
    if (s.type === 'refuse' && random() < s.toxicity) return true;
  }
  return false;
}
