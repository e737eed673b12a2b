/**
 * The gob type model: a GobType describes a Go type the way gob sees it.
 * Pointers do not appear (gob flattens them; a nil pointer is an omitted
 * struct field), every integer width is `int` or `uint`, every float width
 * `float`, and all interface types are one `interface` kind, as on the wire.
 */

/** ScalarKind is a gob type with a predefined id and no definition on the wire. */
export type ScalarKind = 'bool' | 'int' | 'uint' | 'float' | 'complex' | 'string' | 'bytes' | 'interface';

/** GobScalarType is one of the eight predefined gob types. */
export interface GobScalarType {
  readonly kind: ScalarKind;
}

/** GobSliceType is `[]elem`; `name` is set for a named Go type such as `type Tags []string`. */
export interface GobSliceType {
  readonly kind: 'slice';
  readonly elem: GobType;
  readonly name: string;
}

/** GobArrayType is `[len]elem`. */
export interface GobArrayType {
  readonly kind: 'array';
  readonly elem: GobType;
  readonly len: number;
  readonly name: string;
}

/** GobMapType is `map[key]elem`. */
export interface GobMapType {
  readonly kind: 'map';
  readonly key: GobType;
  readonly elem: GobType;
  readonly name: string;
}

/** GobField is one struct field; Go matches fields by this name, case-sensitively. */
export interface GobField {
  readonly name: string;
  readonly type: GobType;
}

/** GobStructType is a struct; `name` is the Go type name sent in CommonType.Name ('' if anonymous). */
export interface GobStructType {
  readonly kind: 'struct';
  readonly name: string;
  readonly fields: readonly GobField[];
}

/** GobLazyType defers to the type `resolve` returns, so recursive types can be written down. */
export interface GobLazyType {
  readonly kind: 'lazy';
  readonly resolve: () => GobType;
}

/**
 * GobOpaqueType is a Go type with its own marshaller (GobEncoder,
 * BinaryMarshaler or TextMarshaler, such as time.Time): its value is the
 * marshalled bytes, carried as a Buffer.
 */
export interface GobOpaqueType {
  readonly kind: 'opaque';
  readonly name: string;
  readonly marshaler: OpaqueMarshaler;
}

/** OpaqueMarshaler says which Go interface produced an opaque value's bytes. */
export type OpaqueMarshaler = 'gob' | 'binary' | 'text';

/** GobType is any gob type. */
export type GobType =
  | GobScalarType
  | GobSliceType
  | GobArrayType
  | GobMapType
  | GobStructType
  | GobLazyType
  | GobOpaqueType;

/** GobKind is the `kind` of some GobType. */
export type GobKind = GobType['kind'];

/** Complex is a Go complex64/complex128 value. */
export interface Complex {
  re: number;
  im: number;
}

/**
 * GobInterface is a non-nil Go interface value: the concrete value, its gob
 * type, and the name the concrete type was registered under with Go's
 * gob.Register (`main.Point`; `int`, `string`... for predeclared types).
 * A nil interface is `null`.
 */
export class GobInterface {
  readonly name: string;
  readonly type: GobType;
  readonly value: unknown;

  constructor(name: string, type: GobType, value: unknown) {
    this.name = name;
    this.type = type;
    this.value = value;
  }
}

/** BUILTIN_IDS are the type ids every gob stream predefines (Go's encoding/gob type.go). */
export const BUILTIN_IDS: Readonly<Record<ScalarKind, number>> = Object.freeze({
  bool: 1,
  int: 2,
  uint: 3,
  float: 4,
  bytes: 5,
  string: 6,
  complex: 7,
  interface: 8,
});

/** FIRST_USER_ID is the first id Go 1.19 hands out to a user type (it counts up from 64). */
export const FIRST_USER_ID = 65;
