/**
 * ValueReader decodes gob values from the message at buf[pos, end),
 * following the value grammar of Go's decode.go. The Decoder owns the stream buffer and supplies `advance`, to
 * move on to the next message where Go cut a value in two.
 *
 * Every read is bounds-checked against the message end, every count
 * against the limits and the bytes left, and nesting against maxDepth, so
 * hostile input costs at most its own size and never the stack.
 */
import { malformed, overLimit } from './errors.js';
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
import { ByteReader } from './reader.js';
import { isFreshZero, type TypeTable, zeroOf } from './type-table.js';
import { type Complex, GobInterface } from './types.js';
import { parseWire, WIRE_TYPE } from './wire.js';

/** Go refuses interface type names longer than this (decode.go decodeInterface). */
const MAX_NAME_BYTES = 1024;

/** NEED_MORE is thrown (not an Error: no stack) when a value continues in a message not yet received. */
export const NEED_MORE: unique symbol = Symbol('gob: need more bytes');

/** Advance moves a reader to the message after its current one; false if that message is not all buffered yet. */
export type Advance = () => boolean;

export class ValueReader extends ByteReader {
  readonly types: TypeTable;
  private readonly maxDepth: number;
  private readonly maxElements: number;
  /** advance is supplied by the Decoder, which owns the stream buffer. */
  readonly advance: Advance;

  constructor(types: TypeTable, maxDepth: number, maxElements: number, advance: Advance) {
    super();
    this.types = types;
    this.maxDepth = maxDepth;
    this.maxElements = maxElements;
    this.advance = advance;
  }

  /** defineType reads the wireType value at pos and records it as type `id`. */
  defineType(id: number): void {
    const at = this.base + this.pos;
    // Definitions nest a fixed 4 levels; start below 0 so maxDepth never refuses them.
    const w = this.struct(WIRE_TYPE, -8);
    this.types.define(id, parseWire(w, at), at);
  }

  depthCheck(depth: number): void {
    if (depth > this.maxDepth) throw overLimit('value nesting', 'maxDepth', this.maxDepth);
  }

  /**
   * readCount reads an element count, bounded by maxElements and by the
   * bytes left: each element takes at least `perElement` bytes, unless it
   * holds an interface (`mayspan`), which may continue in the next message.
   */
  readCount(mayspan: boolean, perElement: number): number {
    const at = this.pos;
    const n = this.readUint();
    if (n > this.maxElements) throw overLimit(`a count of ${n} elements`, 'maxElements', this.maxElements);
    if (!mayspan && n * perElement > this.end - this.pos) {
      throw malformed(
        `count ${n} beyond the ${this.end - this.pos} bytes left in the message`,
        this.base + at,
      );
    }
    return n;
  }

  /** value decodes one value of type `node`. */
  value(node: Node, depth: number): unknown {
    switch (node.k) {
      case K_INT:
        return this.readIntValue();
      case K_UINT:
        return this.readUintValue();
      case K_STRING:
        return this.readString();
      case K_BOOL:
        return this.readUint() !== 0; // as Go's decBool: any non-zero is true
      case K_FLOAT:
        return this.readFloat();
      case K_BYTES:
      case K_OPAQUE:
        return this.readBytes();
      case K_COMPLEX: {
        const c: Complex = { re: this.readFloat(), im: 0 };
        c.im = this.readFloat();
        return c;
      }
      case K_STRUCT:
        return this.struct(node, depth);
      case K_SLICE: {
        this.depthCheck(depth);
        const n = this.readCount(node.elem!.iface, 1);
        return this.elements(node.elem!, n, depth);
      }
      case K_ARRAY: {
        this.depthCheck(depth);
        const n = this.readCount(node.elem!.iface, 1);
        if (n !== node.len) throw this.bad(`array of ${n} elements for a type of ${node.len}`);
        return this.elements(node.elem!, n, depth);
      }
      case K_MAP:
        return this.map(node, depth);
      case K_INTERFACE:
        return this.iface(depth);
      default:
        throw this.bad('value of an unknown kind');
    }
  }

  private elements(elem: Node, n: number, depth: number): unknown[] {
    const out: unknown[] = [];
    if (elem.k === K_INT) for (let i = 0; i < n; i++) out.push(this.readIntValue());
    else if (elem.k === K_STRING) for (let i = 0; i < n; i++) out.push(this.readString());
    else for (let i = 0; i < n; i++) out.push(this.value(elem, depth + 1));
    return out;
  }

  private map(node: Node, depth: number): Map<unknown, unknown> {
    this.depthCheck(depth);
    const key = node.key!;
    const elem = node.elem!;
    const n = this.readCount(key.iface || elem.iface, 2);
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < n; i++) {
      const k = this.value(key, depth + 1);
      m.set(k, this.value(elem, depth + 1));
    }
    return m;
  }

  /** struct decodes (delta, value) pairs up to the 0 terminator; omitted fields keep their zero value. */
  struct(node: Node, depth: number): Record<string, unknown> {
    this.depthCheck(depth);
    const o = newStruct(node);
    const fields = node.fields;
    const names = node.names;
    const count = fields.length;
    let f = -1;
    for (;;) {
      const delta = this.readUint();
      if (delta === 0) break;
      f += delta;
      if (f >= count)
        throw this.bad(`field number ${f} past the last field (${count - 1}) of ${node.name || 'a struct'}`);
      const v = this.value(fields[f]!, depth + 1);
      if (node.proto)
        Object.defineProperty(o, names[f]!, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else o[names[f]!] = v;
    }
    return o;
  }

  /**
   * iface is Go's decodeInterface: the registered name ('' is nil), type
   * definitions if the concrete type is new, the concrete type id, a byte
   * count (unreliable with nested interfaces, so ignored as Go does), then
   * the value, with the singleton 0 before a non-struct.
   */
  private iface(depth: number): GobInterface | null {
    const name = this.ifaceName(depth);
    if (name === null) return null;
    for (;;) {
      // Go's encoder cuts the message where it defines the concrete type; the value goes on in the next one.
      if (this.pos >= this.end && !this.advance()) throw NEED_MORE;
      const id = this.ifaceTypeStep();
      if (id >= 0) {
        const node = this.ifaceType(id);
        return new GobInterface(
          name,
          node.type,
          node.k === K_STRUCT ? this.struct(node, depth + 1) : this.value(node, depth + 1),
        );
      }
    }
  }

  /** ifaceName reads an interface's concrete type name; null for a nil interface. */
  ifaceName(depth: number): string | null {
    this.depthCheck(depth);
    const n = this.readLength();
    if (n === 0) return null;
    if (n > MAX_NAME_BYTES) throw this.bad(`interface type name of ${n} bytes`);
    const name = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return name;
  }

  /** ifaceTypeStep reads one step of the type sequence: a definition (returns -1) or the concrete id. */
  ifaceTypeStep(): number {
    const id = this.readTypeId();
    if (id >= 0) return id;
    this.defineType(-id);
    // A definition followed by more bytes is delimited: Go skips a count here.
    if (this.pos < this.end) this.readUint();
    return -1;
  }

  /** ifaceType resolves the concrete id and reads what precedes the value: the byte count, and 0 for a non-struct. */
  ifaceType(id: number): Node {
    const node = this.types.node(id, this.base + this.pos);
    this.readUint();
    if (node.k !== K_STRUCT && this.readUint() !== 0)
      throw this.bad('non-zero field delta before an interface value');
    return node;
  }
}

/** newStruct makes a struct value with every field at its zero value, cloning a per-type template. */
export function newStruct(node: Node): Record<string, unknown> {
  let zero = node.zero;
  if (zero === null) {
    zero = {};
    for (let i = 0; i < node.fields.length; i++) {
      const k = node.fields[i]!.k;
      Object.defineProperty(zero, node.names[i]!, {
        value: zeroOf(k),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      if (isFreshZero(k)) node.fresh.push(i);
    }
    node.zero = zero;
  }
  const o = { ...zero };
  const fresh = node.fresh;
  for (let i = 0; i < fresh.length; i++) {
    const f = fresh[i]!;
    if (node.proto)
      Object.defineProperty(o, node.names[f]!, {
        value: zeroOf(node.fields[f]!.k),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else o[node.names[f]!] = zeroOf(node.fields[f]!.k);
  }
  return o;
}
