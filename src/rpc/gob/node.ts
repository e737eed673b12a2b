/**
 * Node: the compiled form of a gob type that the encoder and decoder work
 * on. A GobType is what users write; a Node adds the stream's type id, the
 * resolved children and a numeric kind, so the hot loops switch on small
 * integers and never resolve lazies or look names up.
 */
import { gob } from './schema.js';
import type { GobType, OpaqueMarshaler, ScalarKind } from './types.js';

// Kinds 1-8 equal the predefined type ids, so a scalar's kind is its id.
export const K_BOOL = 1;
export const K_INT = 2;
export const K_UINT = 3;
export const K_FLOAT = 4;
export const K_BYTES = 5;
export const K_STRING = 6;
export const K_COMPLEX = 7;
export const K_INTERFACE = 8;
export const K_ARRAY = 9;
export const K_SLICE = 10;
export const K_STRUCT = 11;
export const K_MAP = 12;
export const K_OPAQUE = 13;

/** Node is one compiled type; composite nodes may form cycles (recursive types). */
export interface Node {
  /** k is the kind, one of the K_* constants. */
  k: number;
  /** id is the type id on this stream (0 while the encoder is still assigning it). */
  id: number;
  /** name is the CommonType.Name sent or received for this type. */
  name: string;
  /** type is the public GobType this node stands for. */
  type: GobType;
  elem: Node | null;
  key: Node | null;
  len: number;
  /** fields and names are a struct's field types and names, in field-number order. */
  fields: Node[];
  names: string[];
  marshaler: OpaqueMarshaler;
  /** sent: the encoder has emitted this type's definition on its stream. */
  sent: boolean;
  /** iface: a value of this type may hold an interface, and so may continue in a later message. */
  iface: boolean;
  /** proto: a field is named `__proto__` and must be defined, not assigned, on decoded objects. */
  proto: boolean;
  /** zero is the decoder's template struct value (every field at its zero value), made on first use. */
  zero: Record<string, unknown> | null;
  /** fresh lists the fields whose zero value is mutable ([], Map, ...) and must be made per object. */
  fresh: number[];
}

/** newNode makes a node with every field set, so all nodes share one hidden class. */
export function newNode(k: number, id: number, name: string, type: GobType): Node {
  return {
    k,
    id,
    name,
    type,
    elem: null,
    key: null,
    len: 0,
    fields: [],
    names: [],
    marshaler: 'gob',
    sent: false,
    iface: k === K_INTERFACE,
    proto: false,
    zero: null,
    fresh: [],
  };
}

/** isScalarKind tells whether a node kind is predefined (never defined on the wire). */
export function isScalarKind(k: number): boolean {
  return k <= K_INTERFACE;
}

function scalarNode(kind: ScalarKind, k: number): Node {
  const n = newNode(k, k, kind, gob[kind]);
  n.sent = true;
  return n;
}

/** SCALAR_NODES maps a scalar kind name to its shared, immutable node. */
export const SCALAR_NODES: Readonly<Record<ScalarKind, Node>> = Object.freeze({
  bool: scalarNode('bool', K_BOOL),
  int: scalarNode('int', K_INT),
  uint: scalarNode('uint', K_UINT),
  float: scalarNode('float', K_FLOAT),
  bytes: scalarNode('bytes', K_BYTES),
  string: scalarNode('string', K_STRING),
  complex: scalarNode('complex', K_COMPLEX),
  interface: scalarNode('interface', K_INTERFACE),
});

/** SCALAR_BY_ID maps a predefined type id (1-8) to its node; index 0 is unused. */
export const SCALAR_BY_ID: readonly Node[] = [
  SCALAR_NODES.bool, // placeholder for index 0, never looked up
  SCALAR_NODES.bool,
  SCALAR_NODES.int,
  SCALAR_NODES.uint,
  SCALAR_NODES.float,
  SCALAR_NODES.bytes,
  SCALAR_NODES.string,
  SCALAR_NODES.complex,
  SCALAR_NODES.interface,
];
