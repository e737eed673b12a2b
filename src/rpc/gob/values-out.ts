/**
 * Value encoding, following Go's encode.go: a struct is (field-number
 * delta, value) pairs ended by 0, leaving out fields at their zero value
 * (0, false, '', empty bytes or slice, nil map, nil interface or pointer)
 * but always sending arrays, structs and non-nil maps, even empty ones;
 * elements of slices, arrays and maps are always sent. In JavaScript a
 * struct field that is null or undefined is a nil pointer and is left out.
 *
 * Mismatches throw EncodeFailure; each level adds its path segment on the
 * way out, so the hot path carries no path strings.
 */
import { EncodeFailure, withSegment } from './errors.js';
import {
  K_ARRAY,
  K_BOOL,
  K_BYTES,
  K_COMPLEX,
  K_FLOAT,
  K_INT,
  K_INTERFACE,
  K_MAP,
  K_OPAQUE,
  K_SLICE,
  K_STRING,
  K_STRUCT,
  K_UINT,
  type Node,
} from './node.js';
import { GobInterface, type GobType } from './types.js';
import type { ByteWriter } from './writer.js';

/** ValueSink is what value encoding needs from its Encoder (interfaces may define types mid-value). */
export interface ValueSink {
  readonly maxDepth: number;
  nodeOf(type: GobType): Node;
  sendType(node: Node, stage: ByteWriter): void;
  scratchAt(depth: number): ByteWriter;
  pushWriter(w: ByteWriter): void;
  popWriter(): void;
  flush(target: ByteWriter, b: ByteWriter): void;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const KIND_NAMES = [
  '',
  'bool',
  'int',
  'uint',
  'float',
  'bytes',
  'string',
  'complex',
  'interface',
  'array',
  'slice',
  'struct',
  'map',
  'opaque',
];

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v !== 'object' || v === null) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return v.constructor?.name ? `a ${v.constructor.name}` : 'an object';
}

function mismatch(node: Node, v: unknown, extra = ''): EncodeFailure {
  return new EncodeFailure(`expected ${KIND_NAMES[node.k]}, got ${show(v)}${extra}`);
}

function checkDepth(sink: ValueSink, depth: number): void {
  if (depth > sink.maxDepth)
    throw new EncodeFailure(`value nests deeper than maxDepth (${sink.maxDepth}); is it circular?`);
}

/** encStruct writes a struct's fields and terminator; `v` must be a non-null object. */
export function encStruct(sink: ValueSink, w: ByteWriter, node: Node, v: unknown, depth: number): void {
  if (
    typeof v !== 'object' ||
    v === null ||
    Array.isArray(v) ||
    v instanceof Uint8Array ||
    v instanceof Map
  ) {
    throw mismatch(node, v, ' (a struct is a plain object)');
  }
  checkDepth(sink, depth);
  const fields = node.fields;
  const names = node.names;
  const obj = v as Record<string, unknown>;
  let prev = -1;
  let i = 0;
  try {
    for (; i < fields.length; i++) {
      const x = obj[names[i]!];
      if (x === undefined || x === null) continue; // nil pointer, or not set
      const mark = w.pos;
      w.uint(i - prev);
      if (encodeValue(sink, w, fields[i]!, x, depth + 1, true)) prev = i;
      else w.pos = mark; // zero value: Go leaves the field out
    }
  } catch (err) {
    withSegment(err, `.${names[i]}`);
  }
  w.byte(0);
}

/**
 * encodeValue writes `v` as a value of `node`. In a struct (`inStruct`) a
 * zero value is not written and false is returned; elsewhere (slice
 * elements, map entries, singletons) everything is written.
 */
export function encodeValue(
  sink: ValueSink,
  w: ByteWriter,
  node: Node,
  v: unknown,
  depth: number,
  inStruct: boolean,
): boolean {
  switch (node.k) {
    case K_INT:
      if (typeof v === 'number') {
        if (!Number.isSafeInteger(v))
          throw mismatch(node, v, Number.isInteger(v) ? ' (beyond 2^53: pass a bigint)' : '');
        if (v === 0 && inStruct) return false;
        w.int(v);
        return true;
      }
      if (typeof v === 'bigint') {
        if (v < INT64_MIN || v > INT64_MAX) throw new EncodeFailure(`${v}n is out of range for int64`);
        if (v === 0n && inStruct) return false;
        w.bigInt(v);
        return true;
      }
      throw mismatch(node, v);
    case K_UINT:
      if (typeof v === 'number') {
        if (!Number.isSafeInteger(v) || v < 0)
          throw mismatch(node, v, v < 0 ? ' (negative)' : ' (not a safe integer: pass a bigint)');
        if (v === 0 && inStruct) return false;
        w.uint(v);
        return true;
      }
      if (typeof v === 'bigint') {
        if (v < 0n || v > UINT64_MAX) throw new EncodeFailure(`${v}n is out of range for uint64`);
        if (v === 0n && inStruct) return false;
        w.bigUint(v);
        return true;
      }
      throw mismatch(node, v);
    case K_STRING:
      if (typeof v !== 'string') throw mismatch(node, v);
      if (v === '' && inStruct) return false;
      w.string(v);
      return true;
    case K_BOOL:
      if (typeof v !== 'boolean') throw mismatch(node, v);
      if (!v && inStruct) return false;
      w.byte(v ? 1 : 0);
      return true;
    case K_FLOAT:
      if (typeof v !== 'number') throw mismatch(node, v);
      if (v === 0 && inStruct) return false; // -0 too, as Go's f != 0
      w.float(v);
      return true;
    case K_BYTES:
      if (!(v instanceof Uint8Array)) throw mismatch(node, v);
      if (v.length === 0 && inStruct) return false;
      w.bytes(v);
      return true;
    case K_COMPLEX: {
      const c = v as { re?: unknown; im?: unknown } | null;
      if (typeof c !== 'object' || c === null || typeof c.re !== 'number' || typeof c.im !== 'number') {
        throw mismatch(node, v, ' (a complex is { re, im })');
      }
      if (c.re === 0 && c.im === 0 && inStruct) return false;
      w.float(c.re);
      w.float(c.im);
      return true;
    }
    case K_STRUCT:
      encStruct(sink, w, node, v, depth);
      return true;
    case K_SLICE:
      if (!Array.isArray(v)) throw mismatch(node, v);
      if (v.length === 0 && inStruct) return false;
      encElements(sink, w, node.elem!, v, depth);
      return true;
    case K_ARRAY:
      if (!Array.isArray(v)) throw mismatch(node, v);
      if (v.length !== node.len)
        throw new EncodeFailure(`expected an array of ${node.len} elements, got ${v.length}`);
      encElements(sink, w, node.elem!, v, depth);
      return true;
    case K_MAP:
      encMap(sink, w, node, v, depth);
      return true;
    case K_INTERFACE:
      if (v === null || v === undefined) {
        if (inStruct) return false;
        w.byte(0); // nil interface: empty name
        return true;
      }
      if (!(v instanceof GobInterface))
        throw new EncodeFailure(`expected a GobInterface or null, got ${show(v)}`);
      encInterface(sink, w, v, depth);
      return true;
    case K_OPAQUE:
      if (!(v instanceof Uint8Array)) throw mismatch(node, v, ' (the marshalled bytes)');
      w.bytes(v);
      return true;
    default:
      throw new EncodeFailure('unknown type kind');
  }
}

/** encElement writes one element of a slice, array or map; null is allowed where Go has nil. */
function encElement(sink: ValueSink, w: ByteWriter, node: Node, v: unknown, depth: number): void {
  if (v === null || v === undefined) {
    // Go sends a nil slice or map element as empty and a nil interface as
    // its empty name, but refuses a nil pointer (encodeArray: nil element).
    if (node.k === K_SLICE || node.k === K_MAP || node.k === K_INTERFACE) {
      w.byte(0);
      return;
    }
    throw new EncodeFailure('nil element (Go cannot send a nil pointer inside a slice, array or map)');
  }
  encodeValue(sink, w, node, v, depth, false);
}

function encElements(sink: ValueSink, w: ByteWriter, elem: Node, v: unknown[], depth: number): void {
  checkDepth(sink, depth);
  w.uint(v.length);
  let i = 0;
  try {
    for (; i < v.length; i++) encElement(sink, w, elem, v[i], depth + 1);
  } catch (err) {
    withSegment(err, `[${i}]`);
  }
}

function encMap(sink: ValueSink, w: ByteWriter, node: Node, v: unknown, depth: number): void {
  checkDepth(sink, depth);
  let entries: Iterable<[unknown, unknown]>;
  let size: number;
  if (v instanceof Map) {
    entries = v;
    size = v.size;
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v) && node.key!.k === K_STRING) {
    // A plain object stands for a map with string keys.
    const list = Object.entries(v);
    entries = list;
    size = list.length;
  } else {
    throw mismatch(node, v, ' (a map is a Map, or a plain object for string keys)');
  }
  w.uint(size);
  for (const [k, x] of entries) {
    try {
      encElement(sink, w, node.key!, k, depth + 1);
      encElement(sink, w, node.elem!, x, depth + 1);
    } catch (err) {
      withSegment(err, `[${show(k)}]`);
    }
  }
}

/**
 * encInterface is Go's encodeInterface: the registered name, the concrete
 * type's id (defining the type first if new, which cuts the message being
 * built, see Encoder.sendType), then the value as a length-prefixed
 * sub-message built in its own buffer.
 */
function encInterface(sink: ValueSink, w: ByteWriter, iv: GobInterface, depth: number): void {
  checkDepth(sink, depth);
  const name = iv.name;
  if (typeof name !== 'string' || name === '')
    throw new EncodeFailure('GobInterface.name must be a non-empty string (the gob.Register name)');
  if (iv.value === null || iv.value === undefined)
    throw new EncodeFailure('an interface cannot hold a nil pointer');
  w.string(name);
  try {
    const node = sink.nodeOf(iv.type);
    sink.sendType(node, w);
    w.int(node.id);
    sink.pushWriter(w);
    const data = sink.scratchAt(depth);
    if (node.k === K_STRUCT) encStruct(sink, data, node, iv.value, depth + 1);
    else {
      data.byte(0);
      encodeValue(sink, data, node, iv.value, depth + 1, false);
    }
    sink.popWriter();
    sink.flush(w, data);
  } catch (err) {
    withSegment(err, `.(${name})`);
  }
}
