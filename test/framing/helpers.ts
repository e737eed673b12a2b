/**
 * Shared helpers for the framing tests: run a decoder over chunks, catch a
 * FrameError by code, and a seeded PRNG so generated inputs are repeatable.
 */
import assert from 'node:assert/strict';
import { FrameError, InvalidArgumentError, type NetkitError } from '../../src/errors.js';
import type { FrameDecoder } from '../../src/framing/index.js';

export { rng } from '../helpers/rng.js';

/** hex builds a Buffer from hex text, ignoring spaces. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replaceAll(' ', ''), 'hex');
}

/** decodeAll pushes every chunk, then ends the stream, and returns the frames (copied). */
export function decodeAll(decoder: FrameDecoder, chunks: readonly Buffer[], end = true): Buffer[] {
  const frames: Buffer[] = [];
  const onFrame = (f: Buffer): void => {
    frames.push(Buffer.from(f));
  };
  for (const c of chunks) decoder.push(c, onFrame);
  if (end) decoder.end(onFrame);
  return frames;
}

/** bytesOf splits `data` at the given offsets. */
export function splitAt(data: Buffer, ...offsets: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of offsets) {
    out.push(data.subarray(prev, o));
    prev = o;
  }
  out.push(data.subarray(prev));
  return out;
}

/** byteByByte splits `data` into one-byte chunks. */
export function byteByByte(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i++) out.push(data.subarray(i, i + 1));
  return out;
}

/** frameError runs fn, requires a FrameError with `code`, and returns it. */
export function frameError(fn: () => unknown, code: FrameError['code']): FrameError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof FrameError, `expected a FrameError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

/** argError runs fn, requires an InvalidArgumentError naming `option`, and returns it. */
export function argError(fn: () => unknown, option: string): NetkitError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(caught)}`);
  assert.equal(caught.code, 'NETKIT_INVALID_ARGUMENT');
  assert.equal(caught.option, option);
  return caught;
}

/** randomInt returns an integer in [0, n) from `next`. */
export function randomInt(next: () => number, n: number): number {
  return Math.floor(next() * n);
}
