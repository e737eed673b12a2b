/**
 * Type inference for values encoded without a schema. gob needs every
 * value's Go kind; when the caller gives none, it is read off the value:
 *
 * - safe integers -> int; every other number (fractions, NaN, +-Infinity,
 *   integers beyond 2^53) -> float; bigint -> int;
 * - string -> string; boolean -> bool; Uint8Array (Buffer) -> bytes;
 *   GobInterface -> interface;
 * - arrays -> slice; Map -> map; plain objects -> anonymous struct whose
 *   fields are the own enumerable keys in insertion order.
 *
 * Elements of an array (and keys or values of a Map) must infer to one
 * type, with two widenings: int and float mix to float, and structs merge
 * into one struct with every field seen (in order of first appearance).
 * An empty array or Map has no element type to read: as a struct field it
 * is left out of the struct type (Go then keeps its zero value: a nil
 * slice or map), and elsewhere its element type is `int`, a placeholder
 * that only works if the receiver expects ints. null and undefined struct
 * fields are left out too (a nil pointer). Keys that Go cannot see (not
 * starting with an upper-case letter) are sent anyway; Go ignores them.
 */
import { EncodeFailure, encodeError, withSegment } from './errors.js';
import { gob } from './schema.js';
import { type GobField, GobInterface, type GobStructType, type GobType } from './types.js';

/** PLACEHOLDER is `int` for an element type nobody could see; unify lets any real type replace it. */
const PLACEHOLDER: GobType = Object.freeze({ kind: 'int' });

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(t: GobType): string {
  return t.kind === 'struct' ? 'struct' : t.kind;
}

/** unify returns one type that fits values of both `a` and `b`, or fails. */
function unify(a: GobType, b: GobType): GobType {
  if (a === b || b === PLACEHOLDER) return a;
  if (a === PLACEHOLDER) return b;
  if (a.kind === b.kind) {
    switch (a.kind) {
      case 'slice':
        return unifyPair(a.elem, (b as typeof a).elem, (e) => gob.slice(e));
      case 'map': {
        const bm = b as typeof a;
        const key = unify(a.key, bm.key);
        const elem = unify(a.elem, bm.elem);
        return key === a.key && elem === a.elem ? a : gob.map(key, elem);
      }
      case 'struct':
        return mergeStructs(a, b as GobStructType);
      default:
        return a; // same scalar kind
    }
  }
  if ((a.kind === 'int' && b.kind === 'float') || (a.kind === 'float' && b.kind === 'int')) return gob.float;
  throw new EncodeFailure(`elements have different types (${describe(a)} and ${describe(b)}); pass a schema`);
}

function unifyPair(a: GobType, b: GobType, make: (t: GobType) => GobType): GobType {
  const t = unify(a, b);
  return t === a ? make(a) : make(t);
}

function mergeStructs(a: GobStructType, b: GobStructType): GobStructType {
  const fields = new Map<string, GobType>();
  for (const f of a.fields) fields.set(f.name, f.type);
  let changed = false;
  for (const f of b.fields) {
    const have = fields.get(f.name);
    const t = have === undefined ? f.type : unify(have, f.type);
    if (t !== have) {
      fields.set(f.name, t);
      changed = true;
    }
  }
  if (!changed) return a;
  const list: GobField[] = [];
  for (const [name, type] of fields) list.push(Object.freeze({ name, type }));
  return Object.freeze({ kind: 'struct', name: '', fields: Object.freeze(list) });
}

/** inferType returns the gob type the inference rule gives `value` (see docs/gob.md); GobError NETKIT_GOB_ENCODE if none. */
export function inferType(value: unknown, maxDepth = 64): GobType {
  try {
    return inferTypeOf(value, maxDepth);
  } catch (err) {
    if (err instanceof EncodeFailure) throw encodeError(err, 'value');
    throw err;
  }
}

/** inferTypeOf is inferType for the encoder: it throws EncodeFailure, which the encoder completes with a path. */
export function inferTypeOf(value: unknown, maxDepth: number): GobType {
  if (value === null || value === undefined)
    throw new EncodeFailure('cannot infer a gob type for null or undefined');
  return infer(value, 1, maxDepth);
}

function infer(v: unknown, depth: number, maxDepth: number): GobType {
  switch (typeof v) {
    case 'number':
      return Number.isSafeInteger(v) ? gob.int : gob.float;
    case 'bigint':
      return gob.int;
    case 'string':
      return gob.string;
    case 'boolean':
      return gob.bool;
    case 'object':
      break;
    default:
      throw new EncodeFailure(`cannot infer a gob type for a ${typeof v}`);
  }
  if (v === null)
    throw new EncodeFailure('cannot infer a gob type for null here (nil elements cannot be sent)');
  if (v instanceof Uint8Array) return gob.bytes;
  if (v instanceof GobInterface) return gob.interface;
  if (depth > maxDepth)
    throw new EncodeFailure(`value nests deeper than maxDepth (${maxDepth}); is it circular?`);
  if (Array.isArray(v)) {
    let elem = PLACEHOLDER;
    for (let i = 0; i < v.length; i++) {
      try {
        elem = unify(elem, infer(v[i], depth + 1, maxDepth));
      } catch (err) {
        withSegment(err, `[${i}]`);
      }
    }
    return gob.slice(elem);
  }
  if (v instanceof Map) {
    let key = PLACEHOLDER;
    let elem = PLACEHOLDER;
    for (const [k, x] of v) {
      try {
        key = unify(key, infer(k, depth + 1, maxDepth));
        elem = unify(elem, infer(x, depth + 1, maxDepth));
      } catch (err) {
        withSegment(err, `[${String(k)}]`);
      }
    }
    return gob.map(key, elem);
  }
  if (!isPlainObject(v)) {
    throw new EncodeFailure(
      `cannot infer a gob type for a ${v.constructor?.name ?? 'object'}; pass a schema`,
    );
  }
  const fields: GobField[] = [];
  for (const name of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[name];
    if (x === null || x === undefined) continue;
    if (Array.isArray(x) && x.length === 0) continue;
    if (x instanceof Map && x.size === 0) continue;
    try {
      fields.push({ name, type: infer(x, depth + 1, maxDepth) });
    } catch (err) {
      withSegment(err, `.${name}`);
    }
  }
  // Not frozen: inferred types are made per value and freezing costs more than the rest of inference.
  const t: GobStructType = { kind: 'struct', name: '', fields };
  return t;
}
