/**
 * Shared helpers for the gob tests: build messages from hex, catch a
 * GobError by code, run the Go reference's decoder, and a seeded PRNG.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidArgumentError } from '../../../src/errors.js';
import { Decoder, type DecoderOptions, GobError, type GobErrorCode } from '../../../src/rpc/gob/index.js';

export { rng as prng } from '../../helpers/rng.js';

const execFileP = promisify(execFile);

/** hex builds a Buffer from hex text, ignoring spaces. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replaceAll(' ', ''), 'hex');
}

/** gobUint is gob's uint encoding of a non-negative integer. */
export function gobUint(n: number | bigint): Buffer {
  const x = BigInt(n);
  if (x < 128n) return Buffer.from([Number(x)]);
  const bytes: number[] = [];
  for (let v = x; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return Buffer.from([256 - bytes.length, ...bytes]);
}

/** gobInt is gob's zig-zag int encoding. */
export function gobInt(n: number): Buffer {
  return gobUint(n >= 0 ? BigInt(n) * 2n : (BigInt(-n - 1) << 1n) | 1n);
}

/** msg frames a payload as one gob message: its length, then the bytes. */
export function msg(...parts: (Buffer | string)[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? hex(p) : p)));
  return Buffer.concat([gobUint(body.length), body]);
}

/** gobError runs fn, requires a GobError with `code`, and returns it. */
export function gobError(fn: () => unknown, code: GobErrorCode): GobError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof GobError, `expected a GobError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** argError runs fn and requires an InvalidArgumentError naming `option`. */
export function argError(fn: () => unknown, option: string): void {
  assert.throws(fn, (err: unknown) => err instanceof InvalidArgumentError && err.option === option);
}

/** decodeBytes pushes `bytes` into a fresh decoder and returns every value it gives. */
export function decodeBytes(bytes: Buffer, options?: DecoderOptions): unknown[] {
  const d = new Decoder(options);
  d.push(bytes);
  const out: unknown[] = [];
  for (let v = d.next(); v !== undefined; v = d.next()) out.push(v.value);
  return out;
}

/** goDecode runs the Go reference's dec mode: Go decodes `bytes` as case `name`'s types. */
export async function goDecode(bin: string, name: string, bytes: Buffer): Promise<string> {
  const child = execFileP(bin, ['dec', name]);
  child.child.stdin!.end(`${bytes.toString('hex')}\n`);
  return (await child).stdout;
}
