/**
 * TypeRegistry: the encoder's per-stream table from GobType to Node, which
 * hands out type ids and names exactly as Go 1.19's encoding/gob does for a
 * fresh process (type.go newTypeObject), so netkit's bytes equal Go's:
 *
 * - ids count up from 65; a struct takes its id before its fields, while a
 *   slice, array or map takes its id after its element types;
 * - the name sent in CommonType.Name depends on where the type is first
 *   met: at top level and as a slice element it is the Go type's own name
 *   ('' if unnamed); as a struct field an unnamed type is spelled out
 *   (`[]string`, `map[string]int`); as an array element or a map key or
 *   value it is always ''.
 *
 * Types are cached by identity and by a canonical structural key, so equal
 * schemas written twice (or inferred twice) share one id. Go's table is
 * process-wide; this one belongs to one stream, which is what a fresh Go
 * process gives each stream too.
 */
import { EncodeFailure } from './errors.js';
import {
  isScalarKind,
  K_ARRAY,
  K_MAP,
  K_OPAQUE,
  K_SLICE,
  K_STRUCT,
  type Node,
  newNode,
  SCALAR_NODES,
} from './node.js';
import { resolveType } from './schema.js';
import { FIRST_USER_ID, type GobType } from './types.js';

type Resolved = Exclude<GobType, { kind: 'lazy' }>;

/** TOP is the naming context of a top-level value (or an interface's concrete value). */
export const TOP: unique symbol = Symbol('top');
type NameContext = typeof TOP | 'field' | 'sliceElem' | 'anon';

/** Undo log entry: a type built (its key) or a definition sent; both are bounded by the distinct types used. */
type LogEntry = { key: string } | { sent: Node };

/** RegistryMark is a point in the registry's history; see TypeRegistry.mark. */
export interface RegistryMark {
  readonly log: number;
  readonly nextId: number;
}

function bareName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

const GO_SCALAR_NAMES: Record<string, string> = {
  bool: 'bool',
  int: 'int',
  uint: 'uint',
  float: 'float64',
  complex: 'complex128',
  string: 'string',
  bytes: '[]uint8',
  interface: 'interface {}',
};

/** goString spells a type as Go's reflect.Type.String does (pointers aside: gob cannot see them). */
function goString(t: GobType, seen: Set<GobType>): string {
  const r = resolveType(t);
  if (r.kind in GO_SCALAR_NAMES) return GO_SCALAR_NAMES[r.kind]!;
  if (r.kind === 'opaque' || (r.kind !== 'struct' && 'name' in r && r.name !== '')) return r.name;
  if (seen.has(r)) return '...';
  seen.add(r);
  switch (r.kind) {
    case 'slice':
      return `[]${goString(r.elem, seen)}`;
    case 'array':
      return `[${r.len}]${goString(r.elem, seen)}`;
    case 'map':
      return `map[${goString(r.key, seen)}]${goString(r.elem, seen)}`;
    case 'struct':
      if (r.name !== '') return r.name;
      if (r.fields.length === 0) return 'struct {}';
      return `struct { ${r.fields.map((f) => `${f.name} ${goString(f.type, seen)}`).join('; ')} }`;
    default:
      return '';
  }
}

/** ownName is Go's reflect.Type.Name: the declared name without its package, '' if unnamed. */
function ownName(t: Resolved): string {
  return 'name' in t ? bareName(t.name) : '';
}

export class TypeRegistry {
  /**
   * byType caches by identity. It is weak and never logged, so fresh
   * objects (inferred types, one per encode) cost nothing once dropped;
   * nodes undone by rollback get id -1 and are ignored here.
   */
  private readonly byType = new WeakMap<GobType, Node>();
  private readonly byKey = new Map<string, Node>();
  private readonly log: LogEntry[] = [];
  private nextId = FIRST_USER_ID;
  private readonly maxDepth: number;

  constructor(maxDepth: number) {
    this.maxDepth = maxDepth;
  }

  /**
   * nodeFor returns the node of `t`, giving it (and the types it uses) ids
   * if new. `remember` caches `t` by identity: worth it for schemas, which
   * are reused, not for inferred types, which are made afresh each time.
   */
  nodeFor(t: GobType, remember = true): Node {
    const n = this.byType.get(t);
    if (n !== undefined && n.id >= 0) return n;
    if (!remember) {
      // A caller sending the same shape again (each RPC's inferred args) skips the canonical key,
      // whose text is built afresh for every value and costs more than the value's encoding.
      const last = this.lastInferred;
      if (last !== undefined && last.node.id >= 0 && sameShape(t, last.type, 0)) return last.node;
    }
    this.remember = remember;
    const node = this.get(t, TOP);
    if (!remember) this.lastInferred = { type: t, node };
    return node;
  }

  /** mark returns a point to roll back to. */
  mark(): RegistryMark {
    return { log: this.log.length, nextId: this.nextId };
  }

  /** rollback forgets every type registered or sent since `mark`, as if those encodes never happened. */
  rollback(mark: RegistryMark): void {
    this.nextId = mark.nextId;
    while (this.log.length > mark.log) {
      const e = this.log.pop()!;
      if ('key' in e) {
        this.byKey.get(e.key)!.id = -1;
        this.byKey.delete(e.key);
      } else e.sent.sent = false;
    }
  }

  /** markSent records that `node`'s definition is on the stream. */
  markSent(node: Node): void {
    node.sent = true;
    this.log.push({ sent: node });
  }

  private remember = true;
  /** lastInferred is the last inferred type and its node: the next value most likely has the same shape. */
  private lastInferred: { type: GobType; node: Node } | undefined;

  private setId(n: Node): void {
    if (n.id === 0) n.id = this.nextId++;
  }

  /** get mirrors Go's getType: find or build the node, naming it for context `ctx`. */
  private get(t: GobType, ctx: NameContext): Node {
    const cached = this.byType.get(t);
    if (cached !== undefined && cached.id >= 0) return cached;
    const r = resolveType(t);
    if (isScalarKind(kindNumber(r))) return SCALAR_NODES[r.kind as keyof typeof SCALAR_NODES];
    let n = this.byType.get(r);
    if (n === undefined || n.id < 0) {
      const key = this.keyOf(r, new Map(), 0);
      n = this.byKey.get(key);
      if (n === undefined) n = this.build(r, ctx, key);
      else if (this.remember) this.byType.set(r, n);
    }
    if (t !== r && this.remember) this.byType.set(t, n);
    return n;
  }

  private build(r: Resolved, ctx: NameContext, key: string): Node {
    let name = '';
    if (ctx === TOP || ctx === 'sliceElem') name = ownName(r);
    else if (ctx === 'field') name = ownName(r) || goString(r, new Set());
    const n = newNode(kindNumber(r), 0, name, r);
    // Cache before the children, so a recursive reference finds this node.
    this.byType.set(r, n);
    this.byKey.set(key, n);
    this.log.push({ key });
    switch (r.kind) {
      case 'struct':
        this.setId(n);
        for (const f of r.fields) {
          const fn = this.get(f.type, 'field');
          this.setId(fn);
          n.fields.push(fn);
          n.names.push(f.name);
          if (fn.iface) n.iface = true;
        }
        break;
      case 'slice':
        n.elem = this.get(r.elem, 'sliceElem');
        this.setId(n);
        this.setId(n.elem);
        break;
      case 'array':
        n.elem = this.get(r.elem, 'anon');
        n.len = r.len;
        this.setId(n);
        break;
      case 'map':
        n.key = this.get(r.key, 'anon');
        n.elem = this.get(r.elem, 'anon');
        this.setId(n);
        break;
      case 'opaque':
        n.marshaler = r.marshaler;
        this.setId(n);
        break;
    }
    return n;
  }

  /**
   * keyOf is a canonical text for the type graph reachable from `t`: equal
   * structures (names included) give equal keys. A type met again is
   * written as a back-reference, so recursive types end and shared ones
   * are walked once.
   */
  private keyOf(x: GobType, seen: Map<GobType, number>, depth: number): string {
    const r = resolveType(x);
    if (isScalarKind(kindNumber(r))) return r.kind;
    const at = seen.get(r);
    if (at !== undefined) return `^${at}`;
    if (depth > this.maxDepth) throw new EncodeFailure(`type nests deeper than maxDepth (${this.maxDepth})`);
    seen.set(r, seen.size);
    const d = depth + 1;
    switch (r.kind) {
      case 'slice':
        return `[${JSON.stringify(r.name)}]${this.keyOf(r.elem, seen, d)}`;
      case 'array':
        return `[${r.len}${JSON.stringify(r.name)}]${this.keyOf(r.elem, seen, d)}`;
      case 'map':
        return `map${JSON.stringify(r.name)}[${this.keyOf(r.key, seen, d)}]${this.keyOf(r.elem, seen, d)}`;
      case 'opaque':
        return `opaque(${JSON.stringify(r.name)},${r.marshaler})`;
      case 'struct': {
        let key = `struct${JSON.stringify(r.name)}{`;
        for (const f of r.fields) key += `${JSON.stringify(f.name)}:${this.keyOf(f.type, seen, d)},`;
        return `${key}}`;
      }
      default:
        return '';
    }
  }
}

/**
 * sameShape tells whether two inferred types are the same tree, which is
 * when keyOf gives them the same key: inference builds trees of fresh
 * structs, slices and maps (never one object twice, so keyOf writes no
 * back-references) over the scalar singletons. Anything else compares by
 * identity only, and a tree deeper than MAX_SHAPE_DEPTH is left to keyOf.
 */
function sameShape(a: GobType, b: GobType, depth: number): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || depth > MAX_SHAPE_DEPTH) return false;
  switch (a.kind) {
    case 'struct': {
      const bs = b as typeof a;
      if (a.name !== bs.name || a.fields.length !== bs.fields.length) return false;
      for (let i = 0; i < a.fields.length; i++) {
        const fa = a.fields[i]!;
        const fb = bs.fields[i]!;
        if (fa.name !== fb.name || !sameShape(fa.type, fb.type, depth + 1)) return false;
      }
      return true;
    }
    case 'slice': {
      const bs = b as typeof a;
      return a.name === bs.name && sameShape(a.elem, bs.elem, depth + 1);
    }
    case 'map': {
      const bm = b as typeof a;
      return (
        a.name === bm.name && sameShape(a.key, bm.key, depth + 1) && sameShape(a.elem, bm.elem, depth + 1)
      );
    }
    default:
      return false;
  }
}

/** MAX_SHAPE_DEPTH bounds sameShape's recursion; deeper types take the keyed path. */
const MAX_SHAPE_DEPTH = 16;

const KIND_NUMBERS: Record<string, number> = {
  bool: 1,
  int: 2,
  uint: 3,
  float: 4,
  bytes: 5,
  string: 6,
  complex: 7,
  interface: 8,
  array: K_ARRAY,
  slice: K_SLICE,
  struct: K_STRUCT,
  map: K_MAP,
  opaque: K_OPAQUE,
};

/** kindNumber maps a GobType kind to its K_* constant; unknown kinds fail the encode. */
export function kindNumber(t: Resolved): number {
  const k = KIND_NUMBERS[t.kind];
  if (k === undefined) throw new EncodeFailure(`${JSON.stringify(t.kind)} is not a gob type kind`);
  return k;
}
