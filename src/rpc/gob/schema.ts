/**
 * The schema DSL: `gob.struct({ A: gob.int, B: gob.int }, 'Args')` and
 * friends build GobType values. Go's gob needs each value's Go kind (an
 * `int` field must arrive as int, `Seq` as uint), so JavaScript code that
 * talks to Go names the types it sends; see infer.ts for the fallback.
 *
 * Arguments are checked here, when the schema is built, so a wrong schema
 * fails at startup rather than on the first message.
 */
import { InvalidArgumentError } from '../../errors.js';
import { checkString } from '../../internal/validate.js';
import type {
  GobArrayType,
  GobField,
  GobLazyType,
  GobMapType,
  GobOpaqueType,
  GobScalarType,
  GobSliceType,
  GobStructType,
  GobType,
  OpaqueMarshaler,
  ScalarKind,
} from './types.js';

/** MAX_ARRAY_LEN bounds `gob.array` lengths (Go's arrays are int-indexed; this is far past any real one). */
const MAX_ARRAY_LEN = 2 ** 31 - 1;

/** How many lazy-to-lazy hops resolveType follows before calling the schema circular. */
const MAX_LAZY_HOPS = 100;

const KINDS = new Set([
  'bool',
  'int',
  'uint',
  'float',
  'complex',
  'string',
  'bytes',
  'interface',
  'slice',
  'array',
  'map',
  'struct',
  'lazy',
  'opaque',
]);

function scalar(kind: ScalarKind): GobScalarType {
  return Object.freeze({ kind });
}

/** isGobType tells whether `t` looks like a GobType (checks the kind only). */
export function isGobType(t: unknown): t is GobType {
  return typeof t === 'object' && t !== null && KINDS.has((t as { kind?: unknown }).kind as string);
}

function checkType(option: string, t: unknown): GobType {
  if (!isGobType(t))
    throw new InvalidArgumentError(option, 'must be a gob type (gob.int, gob.struct(...), ...)');
  return t;
}

function checkName(option: string, name: unknown): string {
  if (name === undefined) return '';
  return checkString(option, name);
}

/** resolveType follows lazy types to the type they stand for. */
export function resolveType(t: GobType): Exclude<GobType, GobLazyType> {
  for (let i = 0; i < MAX_LAZY_HOPS; i++) {
    if (t.kind !== 'lazy') return t;
    t = checkType('gob.lazy', t.resolve());
  }
  throw new InvalidArgumentError(
    'gob.lazy',
    'resolves only to other lazy types; a lazy type must end in a real type',
  );
}

/**
 * gob is the schema DSL. Scalars are constants; composite types are
 * functions. An optional `name` is the Go type name, sent in the type's
 * definition (CommonType.Name) and shown in Go's error messages; Go's
 * decoder matches types by structure and field names, never by type name.
 * A package-qualified name (`main.Point`) is sent as `Point`, as Go does,
 * and spelled in full where Go prints a type (`[]main.Point`).
 */
export const gob = Object.freeze({
  /** bool is Go's `bool`. */
  bool: scalar('bool'),
  /** int is every signed Go integer (int, int8 … int64): gob sends them all alike. */
  int: scalar('int'),
  /** uint is every unsigned Go integer (uint, uint8 … uint64, uintptr). */
  uint: scalar('uint'),
  /** float is Go's `float32` and `float64`. */
  float: scalar('float'),
  /** complex is Go's `complex64` and `complex128`; values are Complex. */
  complex: scalar('complex'),
  /** string is Go's `string`. */
  string: scalar('string'),
  /** bytes is Go's `[]byte` (`[]uint8`), which gob treats as a scalar. */
  bytes: scalar('bytes'),
  /** interface is any Go interface type; values are GobInterface or null. */
  interface: scalar('interface'),

  /** slice is `[]elem`. */
  slice(elem: GobType, name?: string): GobSliceType {
    return Object.freeze({
      kind: 'slice',
      elem: checkType('gob.slice elem', elem),
      name: checkName('gob.slice name', name),
    });
  },

  /** array is `[len]elem`; values must have exactly `len` elements. */
  array(elem: GobType, len: number, name?: string): GobArrayType {
    if (!Number.isInteger(len) || len < 0 || len > MAX_ARRAY_LEN) {
      throw new InvalidArgumentError('gob.array len', `must be an integer from 0 to ${MAX_ARRAY_LEN}`);
    }
    return Object.freeze({
      kind: 'array',
      elem: checkType('gob.array elem', elem),
      len,
      name: checkName('gob.array name', name),
    });
  },

  /** map is `map[key]elem`; values are Maps (or plain objects when the key is a string). */
  map(key: GobType, elem: GobType, name?: string): GobMapType {
    return Object.freeze({
      kind: 'map',
      key: checkType('gob.map key', key),
      elem: checkType('gob.map elem', elem),
      name: checkName('gob.map name', name),
    });
  },

  /** struct lists fields in Go's declaration order (field numbers on the wire follow it). */
  struct(fields: Record<string, GobType>, name?: string): GobStructType {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new InvalidArgumentError(
        'gob.struct fields',
        'must be an object mapping field names to gob types',
      );
    }
    const list: GobField[] = [];
    for (const [fieldName, t] of Object.entries(fields)) {
      if (fieldName === '')
        throw new InvalidArgumentError('gob.struct fields', 'field names must not be empty');
      list.push(Object.freeze({ name: fieldName, type: checkType(`gob.struct field ${fieldName}`, t) }));
    }
    return Object.freeze({
      kind: 'struct',
      name: checkName('gob.struct name', name),
      fields: Object.freeze(list),
    });
  },

  /** lazy refers to a type defined later, for recursion: `Next: gob.lazy(() => Node)`. */
  lazy(resolve: () => GobType): GobLazyType {
    if (typeof resolve !== 'function')
      throw new InvalidArgumentError('gob.lazy', 'must be a function returning a gob type');
    return Object.freeze({ kind: 'lazy', resolve });
  },

  /**
   * opaque is a Go type with its own marshaller (time.Time is `gob.opaque('Time')`);
   * values are the marshalled bytes.
   */
  opaque(name: string, marshaler: OpaqueMarshaler = 'gob'): GobOpaqueType {
    checkString('gob.opaque name', name, true);
    if (marshaler !== 'gob' && marshaler !== 'binary' && marshaler !== 'text') {
      throw new InvalidArgumentError('gob.opaque marshaler', 'must be "gob", "binary" or "text"');
    }
    return Object.freeze({ kind: 'opaque', name, marshaler });
  },
});
