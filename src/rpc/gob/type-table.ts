/**
 * TypeTable: the decoder's per-stream table of received type definitions.
 *
 * Go lets a definition name types defined later in the stream (a struct
 * is sent before its field types), so definitions are stored as they
 * arrive and compiled into Nodes only when a value first uses them; every
 * id reachable from it must be known by then. Compiling is iterative (no
 * recursion over hostile type graphs) and checks the nesting depth.
 *
 * Changes can be rolled back: a value that continues in a message not yet
 * received is retried later, and definitions it made on the way must not
 * count as redefinitions the second time.
 */
import { malformed, overLimit } from './errors.js';
import {
  K_ARRAY,
  K_BOOL,
  K_BYTES,
  K_COMPLEX,
  K_FLOAT,
  K_INT,
  K_MAP,
  K_SLICE,
  K_STRING,
  K_STRUCT,
  K_UINT,
  type Node,
  newNode,
  SCALAR_BY_ID,
} from './node.js';
import type { GobField, GobType } from './types.js';
import type { WireDef } from './wire.js';

/** Ids below 64 belong to gob itself (Go: "duplicate type received"). */
const FIRST_USER_ID = 64;

interface Entry {
  def: WireDef;
  node: Node | null;
}

export class TypeTable {
  private readonly defs = new Map<number, Entry>();
  /** Undo log since the last commit: ids defined, entries compiled. */
  private readonly log: (number | Entry)[] = [];
  private readonly maxTypes: number;
  private readonly maxDepth: number;
  private readonly maxFields: number;

  constructor(maxTypes: number, maxDepth: number, maxFields: number) {
    this.maxTypes = maxTypes;
    this.maxDepth = maxDepth;
    this.maxFields = maxFields;
  }

  /** define stores the definition of type `id`. */
  define(id: number, def: WireDef, offset: number): void {
    if (id < FIRST_USER_ID) throw malformed(`definition of reserved type id ${id}`, offset);
    if (this.defs.has(id)) throw malformed(`redefinition of type id ${id}`, offset);
    if (def.fieldIds.length > this.maxFields) {
      throw overLimit(`a struct type of ${def.fieldIds.length} fields`, 'maxFields', this.maxFields);
    }
    if (this.defs.size >= this.maxTypes)
      throw overLimit(`defining type ${this.defs.size + 1}`, 'maxTypes', this.maxTypes);
    this.defs.set(id, { def, node: null });
    this.log.push(id);
  }

  /** node returns the compiled type `id`; an id never defined is malformed input. */
  node(id: number, offset: number): Node {
    if (id >= K_BOOL && id <= 8) return SCALAR_BY_ID[id]!;
    const e = this.defs.get(id);
    if (e === undefined) throw malformed(`unknown type id ${id}`, offset);
    return e.node ?? this.compile(id, e, offset);
  }

  /** mark is a point to roll back to; commit forgets the undo log. */
  mark(): number {
    return this.log.length;
  }

  commit(): void {
    // Setting an array's length is not free even when it does not change, and this runs for every message.
    if (this.log.length !== 0) this.log.length = 0;
  }

  rollback(mark: number): void {
    while (this.log.length > mark) {
      const x = this.log.pop()!;
      if (typeof x === 'number') this.defs.delete(x);
      else x.node = null;
    }
  }

  private lookup(id: number, offset: number): Entry | Node {
    if (id >= K_BOOL && id <= 8) return SCALAR_BY_ID[id]!;
    const e = this.defs.get(id);
    if (e === undefined) throw malformed(`type definition refers to unknown type id ${id}`, offset);
    return e.node ?? e;
  }

  /** compile builds the nodes for `id` and every not yet compiled type it reaches, breadth first. */
  private compile(id: number, root: Entry, offset: number): Node {
    const fresh: Entry[] = [root];
    const depth: number[] = [1];
    root.node = shell(id, root.def);
    for (let i = 0; i < fresh.length; i++) {
      const d = fresh[i]!.def;
      for (const child of childIds(d)) {
        const c = this.lookup(child, offset);
        if ('k' in c || c.node !== null) continue;
        if (depth[i]! + 1 > this.maxDepth)
          throw overLimit('type definition nesting', 'maxDepth', this.maxDepth);
        c.node = shell(child, c.def);
        fresh.push(c);
        depth.push(depth[i]! + 1);
      }
    }
    const nodeOf = (cid: number): Node => {
      const c = this.lookup(cid, offset);
      return 'k' in c ? c : c.node!;
    };
    for (const e of fresh) link(e.node!, e.def, nodeOf);
    markInterfaces(fresh.map((e) => e.node!));
    for (const e of fresh) {
      Object.freeze(e.node!.type);
      this.log.push(e);
    }
    return root.node;
  }
}

function childIds(d: WireDef): number[] {
  switch (d.k) {
    case K_STRUCT:
      return d.fieldIds;
    case K_MAP:
      return [d.key, d.elem];
    case K_SLICE:
    case K_ARRAY:
      return [d.elem];
    default:
      return [];
  }
}

/** shell makes a node whose children and public type are filled in by link. */
function shell(id: number, d: WireDef): Node {
  let type: GobType;
  switch (d.k) {
    case K_STRUCT:
      type = { kind: 'struct', name: d.name, fields: [] };
      break;
    case K_SLICE:
      type = { kind: 'slice', name: d.name } as unknown as GobType;
      break;
    case K_ARRAY:
      type = { kind: 'array', name: d.name, len: d.len } as unknown as GobType;
      break;
    case K_MAP:
      type = { kind: 'map', name: d.name } as unknown as GobType;
      break;
    default:
      type = { kind: 'opaque', name: d.name, marshaler: d.marshaler };
  }
  const n = newNode(d.k, id, d.name, type);
  n.len = d.len;
  n.marshaler = d.marshaler;
  return n;
}

function link(n: Node, d: WireDef, nodeOf: (id: number) => Node): void {
  const t = n.type as unknown as Record<string, unknown>;
  switch (d.k) {
    case K_STRUCT: {
      const fields = t.fields as GobField[];
      for (let i = 0; i < d.fieldIds.length; i++) {
        const f = nodeOf(d.fieldIds[i]!);
        const name = d.fieldNames[i]!;
        n.fields.push(f);
        n.names.push(name);
        fields.push(Object.freeze({ name, type: f.type }));
        if (name === '__proto__') n.proto = true;
      }
      Object.freeze(fields);
      break;
    }
    case K_MAP:
      n.key = nodeOf(d.key);
      n.elem = nodeOf(d.elem);
      t.key = n.key.type;
      t.elem = n.elem.type;
      break;
    case K_SLICE:
    case K_ARRAY:
      n.elem = nodeOf(d.elem);
      t.elem = n.elem.type;
      break;
  }
}

/** markInterfaces sets `iface` on the new nodes that can reach an interface, walking parent links. */
function markInterfaces(nodes: Node[]): void {
  const parents = new Map<Node, Node[]>();
  const work: Node[] = [];
  for (const n of nodes) {
    const children = n.k === K_STRUCT ? n.fields : n.k === K_MAP ? [n.key!, n.elem!] : n.elem ? [n.elem] : [];
    for (const c of children) {
      if (c.iface) {
        if (!n.iface) {
          n.iface = true;
          work.push(n);
        }
      } else {
        const list = parents.get(c);
        if (list) list.push(n);
        else parents.set(c, [n]);
      }
    }
  }
  while (work.length > 0) {
    for (const p of parents.get(work.pop()!) ?? []) {
      if (!p.iface) {
        p.iface = true;
        work.push(p);
      }
    }
  }
}

/** zeroOf is the decoded zero value of a kind: what an omitted struct field becomes. */
export function zeroOf(k: number): unknown {
  switch (k) {
    case K_BOOL:
      return false;
    case K_INT:
    case K_UINT:
    case K_FLOAT:
      return 0;
    case K_STRING:
      return '';
    case K_BYTES:
      return Buffer.alloc(0);
    case K_COMPLEX:
      return { re: 0, im: 0 };
    case K_SLICE:
    case K_ARRAY:
      return [];
    case K_MAP:
      return new Map();
    default:
      return null; // struct (a nil pointer), interface, opaque
  }
}

/** isFreshZero tells whether a kind's zero value is mutable and so must be made per decoded object. */
export function isFreshZero(k: number): boolean {
  return k === K_BYTES || k === K_COMPLEX || k === K_SLICE || k === K_ARRAY || k === K_MAP;
}
