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
  /** kind names the predefined type. */
  readonly kind: ScalarKind;
}

/** GobSliceType is `[]elem`; `name` is set for a named Go type such as `type Tags []string`. */
export interface GobSliceType {
  /** kind tells the variants of GobType apart. */
  readonly kind: 'slice';
  /** elem is the element type. */
  readonly elem: GobType;
  /** name is the Go type name, '' for an unnamed slice. */
  readonly name: string;
}

/** GobArrayType is `[len]elem`. */
export interface GobArrayType {
  /** kind tells the variants of GobType apart. */
  readonly kind: 'array';
  /** elem is the element type. */
  readonly elem: GobType;
  /** len is the array's fixed length; gob refuses a value of another length. */
  readonly len: number;
  /** name is the Go type name, '' for an unnamed array. */
  readonly name: string;
}

/** GobMapType is `map[key]elem`. */
export interface GobMapType {
  /** kind tells the variants of GobType apart. */
  readonly kind: 'map';
  /** key is the key type. */
  readonly key: GobType;
  /** elem is the value type. */
  readonly elem: GobType;
  /** name is the Go type name, '' for an unnamed map. */
  readonly name: string;
}

/** GobField is one struct field; Go matches fields by this name, case-sensitively. */
export interface GobField {
  /** name is the Go field name; only exported (capitalised) fields travel. */
  readonly name: string;
  /** type is the field's gob type. */
  readonly type: GobType;
}

/** GobStructType is a struct; `name` is the Go type name sent in CommonType.Name ('' if anonymous). */
export interface GobStructType {
  /** kind tells the variants of GobType apart. */
  readonly kind: 'struct';
  /** name is the Go type name, '' for an anonymous struct. */
  readonly name: string;
  /** fields are in Go's declaration order, which is also their order on the wire. */
  readonly fields: readonly GobField[];
}

/** GobLazyType defers to the type `resolve` returns, so recursive types can be written down. */
export interface GobLazyType {
  /** kind tells the variants of GobType apart. */
  readonly kind: 'lazy';
  /**
   * resolve returns the real type; it is called when the type is first needed, after every type it refers to
   * exists.
   */
  readonly resolve: () => GobType;
}

/**
 * GobOpaqueType is a Go type with its own marshaller (GobEncoder,
 * BinaryMarshaler or TextMarshaler, such as time.Time): its value is the
 * marshalled bytes, carried as a Buffer.
 */
export interface GobOpaqueType {
  /** kind tells the variants of GobType apart. */
  readonly kind: 'opaque';
  /** name is the Go type name (`time.Time`). */
  readonly name: string;
  /** marshaler says which Go interface produced the bytes. */
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
  /** re is the real part. */
  re: number;
  /** im is the imaginary part. */
  im: number;
}

/**
 * GobInterface is a non-nil Go interface value: the concrete value, its gob
 * type, and the name the concrete type was registered under with Go's
 * gob.Register (`main.Point`; `int`, `string`... for predeclared types).
 * A nil interface is `null`.
 */
export class GobInterface {
  /** name is the name the concrete type was registered under (`main.Point`). */
  readonly name: string;
  /** type is the concrete value's gob type. */
  readonly type: GobType;
  /** value is the concrete value. */
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
