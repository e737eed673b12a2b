/**
 * The classic example's Arith service, as Go's net/rpc documentation
 * defines it: `Multiply(Args{A, B}) → A*B` and `Divide(Args{A, B}) →
 * Quotient{Quo, Rem}` or the error `divide by zero`. Arithmetic is Go's
 * int64: products wrap, division truncates toward zero, and results beyond
 * 2^53 come back as bigint rather than rounded.
 */
import type { Method } from './registry.js';

type Int = number | bigint;

function toBig(v: unknown, name: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (v === undefined || v === null) return 0n; // an omitted gob field is zero, as in Go
  throw new Error(
    `Arith: ${name} must be an integer, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`,
  );
}

function fromBig(v: bigint): Int {
  const wrapped = BigInt.asIntN(64, v);
  return wrapped >= BigInt(Number.MIN_SAFE_INTEGER) && wrapped <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(wrapped)
    : wrapped;
}

function operands(args: unknown): [bigint, bigint] {
  if (typeof args !== 'object' || args === null) throw new Error('Arith: args must be {A, B}');
  const { A, B } = args as { A?: unknown; B?: unknown };
  return [toBig(A, 'A'), toBig(B, 'B')];
}

/** arith is the Arith service's methods, ready for Registry.register('Arith', arith). */
export const arith: Record<string, Method> = {
  Multiply(args) {
    const [a, b] = operands(args);
    return fromBig(a * b);
  },
  Divide(args) {
    const [a, b] = operands(args);
    if (b === 0n) throw new Error('divide by zero');
    return { Quo: fromBig(a / b), Rem: fromBig(a % b) };
  },
};
