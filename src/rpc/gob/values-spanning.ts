/**
 * Resumable decoding for values that Go cut across messages.
 *
 * When Go's encoder meets an interface whose concrete type is new to the
 * stream, it sends the value built so far together with the type's
 * definition as one message, and the value goes on in a later message
 * (encoder.go sendTypeDescriptor writing the half-built buffer). Such a
 * value can need bytes not yet received. Restarting the fast decoder on
 * every arriving chunk would cost time quadratic in the number of cuts, so
 * the Decoder instead restarts the value once with these generators, which
 * pause where a message is missing and resume where they stopped.
 *
 * Only types that can hold an interface (Node.iface) go through here; any
 * other part of the value is read by the fast ValueReader.
 */
import { K_ARRAY, K_INTERFACE, K_MAP, K_SLICE, K_STRUCT, type Node } from './node.js';
import { GobInterface } from './types.js';
import { newStruct, type ValueReader } from './values-in.js';

type Step<T> = Generator<void, T, void>;

/** spanValue decodes a value of `node`, yielding whenever the next message is not buffered yet. */
export function* spanValue(r: ValueReader, node: Node, depth: number): Step<unknown> {
  if (!node.iface) return r.value(node, depth);
  switch (node.k) {
    case K_STRUCT:
      return yield* spanStruct(r, node, depth);
    case K_SLICE:
    case K_ARRAY: {
      r.depthCheck(depth);
      const n = r.readCount(true, 1);
      if (node.k === K_ARRAY && n !== node.len)
        throw r.bad(`array of ${n} elements for a type of ${node.len}`);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(yield* spanValue(r, node.elem!, depth + 1));
      return out;
    }
    case K_MAP: {
      r.depthCheck(depth);
      const n = r.readCount(true, 2);
      const m = new Map<unknown, unknown>();
      for (let i = 0; i < n; i++) {
        const k = yield* spanValue(r, node.key!, depth + 1);
        m.set(k, yield* spanValue(r, node.elem!, depth + 1));
      }
      return m;
    }
    case K_INTERFACE:
      return yield* spanInterface(r, depth);
    default:
      return r.value(node, depth);
  }
}

function* spanStruct(r: ValueReader, node: Node, depth: number): Step<Record<string, unknown>> {
  r.depthCheck(depth);
  const o = newStruct(node);
  let f = -1;
  for (;;) {
    const delta = r.readUint();
    if (delta === 0) return o;
    f += delta;
    if (f >= node.fields.length)
      throw r.bad(`field number ${f} past the last field of ${node.name || 'a struct'}`);
    const v = yield* spanValue(r, node.fields[f]!, depth + 1);
    Object.defineProperty(o, node.names[f]!, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

function* spanInterface(r: ValueReader, depth: number): Step<GobInterface | null> {
  const name = r.ifaceName(depth);
  if (name === null) return null;
  for (;;) {
    while (r.pos >= r.end && !r.advance()) yield;
    const id = r.ifaceTypeStep();
    if (id >= 0) {
      const node = r.ifaceType(id);
      return new GobInterface(name, node.type, yield* spanValue(r, node, depth + 1));
    }
  }
}
