/**
 * Type definitions on the wire. Go describes a type by sending a `wireType`
 * value, itself gob-encoded with a handful of bootstrap types whose ids
 * (16-24) both sides know in advance (encoding/gob type.go):
 *
 *   wireType{ArrayT *arrayType; SliceT *sliceType; StructT *structType; MapT *mapType;
 *            GobEncoderT, BinaryMarshalerT, TextMarshalerT *gobEncoderType}
 *   CommonType{Name string; Id typeId}     arrayType{CommonType; Elem typeId; Len int}
 *   sliceType{CommonType; Elem typeId}     structType{CommonType; Field []*fieldType}
 *   fieldType{Name string; Id typeId}      mapType{CommonType; Key, Elem typeId}
 *
 * Exactly one wireType field is set. The nodes below let the ordinary value
 * encoder and decoder read and write definitions.
 */
import { malformed } from './errors.js';
import { K_ARRAY, K_MAP, K_OPAQUE, K_SLICE, K_STRUCT, type Node, newNode, SCALAR_NODES } from './node.js';
import { gob } from './schema.js';
import type { GobType, OpaqueMarshaler } from './types.js';

function bootStruct(id: number, name: string, fields: [string, Node][]): Node {
  const spec: Record<string, GobType> = {};
  for (const [f, n] of fields) spec[f] = n.type;
  const node = newNode(K_STRUCT, id, name, gob.struct(spec, name));
  node.fields = fields.map((f) => f[1]);
  node.names = fields.map((f) => f[0]);
  node.sent = true;
  return node;
}

const INT = SCALAR_NODES.int;
const STRING = SCALAR_NODES.string;
const COMMON = bootStruct(18, 'CommonType', [
  ['Name', STRING],
  ['Id', INT],
]);
const ARRAY_T = bootStruct(17, 'arrayType', [
  ['CommonType', COMMON],
  ['Elem', INT],
  ['Len', INT],
]);
const SLICE_T = bootStruct(19, 'sliceType', [
  ['CommonType', COMMON],
  ['Elem', INT],
]);
const FIELD_T = bootStruct(21, 'fieldType', [
  ['Name', STRING],
  ['Id', INT],
]);
const FIELD_SLICE = newNode(K_SLICE, 22, '', gob.slice(FIELD_T.type));
FIELD_SLICE.elem = FIELD_T;
FIELD_SLICE.sent = true;
const STRUCT_T = bootStruct(20, 'structType', [
  ['CommonType', COMMON],
  ['Field', FIELD_SLICE],
]);
const MAP_T = bootStruct(23, 'mapType', [
  ['CommonType', COMMON],
  ['Key', INT],
  ['Elem', INT],
]);
const GOB_ENCODER_T = bootStruct(24, 'gobEncoderType', [['CommonType', COMMON]]);

/** WIRE_TYPE is the node of Go's wireType (id 16), the value every type definition carries. */
export const WIRE_TYPE: Node = bootStruct(16, 'wireType', [
  ['ArrayT', ARRAY_T],
  ['SliceT', SLICE_T],
  ['StructT', STRUCT_T],
  ['MapT', MAP_T],
  ['GobEncoderT', GOB_ENCODER_T],
  ['BinaryMarshalerT', GOB_ENCODER_T],
  ['TextMarshalerT', GOB_ENCODER_T],
]);

const MARSHALER_FIELDS: Record<OpaqueMarshaler, string> = {
  gob: 'GobEncoderT',
  binary: 'BinaryMarshalerT',
  text: 'TextMarshalerT',
};

/** wireValue is the wireType value (as a plain object) that defines `node`, for WIRE_TYPE's encoder. */
export function wireValue(node: Node): Record<string, unknown> {
  const common = { Name: node.name, Id: node.id };
  switch (node.k) {
    case K_ARRAY:
      return { ArrayT: { CommonType: common, Elem: node.elem!.id, Len: node.len } };
    case K_SLICE:
      return { SliceT: { CommonType: common, Elem: node.elem!.id } };
    case K_MAP:
      return { MapT: { CommonType: common, Key: node.key!.id, Elem: node.elem!.id } };
    case K_OPAQUE:
      return { [MARSHALER_FIELDS[node.marshaler]]: { CommonType: common } };
    default:
      return {
        StructT: {
          CommonType: common,
          Field: node.fields.map((f, i) => ({ Name: node.names[i], Id: f.id })),
        },
      };
  }
}

/** WireDef is a received type definition, with child types still as ids (they may be defined later). */
export interface WireDef {
  k: number;
  name: string;
  elem: number;
  key: number;
  len: number;
  fieldNames: string[];
  fieldIds: number[];
  marshaler: OpaqueMarshaler;
}

/** Type ids are Go int32s; anything else in a definition is malformed. */
function typeId(v: unknown, offset: number): number {
  if (typeof v !== 'number' || v < 1 || v > 0x7fffffff)
    throw malformed(`invalid type id ${String(v)} in a type definition`, offset);
  return v;
}

type Obj = Record<string, unknown>;

/** parseWire turns a decoded wireType value into a WireDef, checking it is well formed. */
export function parseWire(w: Obj, offset: number): WireDef {
  let set = 0;
  for (const name of WIRE_TYPE.names) if (w[name] !== null) set++;
  if (set !== 1) throw malformed(`type definition sets ${set} of the wireType fields instead of one`, offset);
  const def: WireDef = {
    k: 0,
    name: '',
    elem: 0,
    key: 0,
    len: 0,
    fieldNames: [],
    fieldIds: [],
    marshaler: 'gob',
  };
  let t: Obj;
  if (w.ArrayT !== null) {
    t = w.ArrayT as Obj;
    def.k = K_ARRAY;
    def.elem = typeId(t.Elem, offset);
    if (typeof t.Len !== 'number' || t.Len < 0)
      throw malformed(`invalid array length ${String(t.Len)}`, offset);
    def.len = t.Len;
  } else if (w.SliceT !== null) {
    t = w.SliceT as Obj;
    def.k = K_SLICE;
    def.elem = typeId(t.Elem, offset);
  } else if (w.StructT !== null) {
    t = w.StructT as Obj;
    def.k = K_STRUCT;
    for (const f of t.Field as Obj[]) {
      if (f === null) throw malformed('nil field in a struct type definition', offset);
      def.fieldNames.push(f.Name as string);
      def.fieldIds.push(typeId(f.Id, offset));
    }
  } else if (w.MapT !== null) {
    t = w.MapT as Obj;
    def.k = K_MAP;
    def.key = typeId(t.Key, offset);
    def.elem = typeId(t.Elem, offset);
  } else {
    const which = (['gob', 'binary', 'text'] as const).find((m) => w[MARSHALER_FIELDS[m]] !== null)!;
    t = w[MARSHALER_FIELDS[which]] as Obj;
    def.k = K_OPAQUE;
    def.marshaler = which;
  }
  // A missing CommonType decodes as null (an omitted struct); the name is then empty.
  const common = t.CommonType as Obj | null;
  def.name = common === null ? '' : (common.Name as string);
  return def;
}
