/**
 * The golden cases: for each case of test/interop/gobgolden (whose Go
 * encodings are in fixtures/golden.txt), the netkit schema of each value,
 * the value to encode, and the value netkit decodes from Go's bytes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GobInterface, type GobStructType, type GobType, gob } from '../../../src/rpc/gob/index.js';
import { ROOT } from '../../helpers/tools.js';

/** One value of a case: its type, the input to encode, and what decoding gives (default: input). */
export interface CaseValue {
  type: GobType;
  input: unknown;
  decoded?: unknown;
}

export const Inner = gob.struct({ X: gob.int, S: gob.string }, 'main.Inner');
export const Point = gob.struct({ X: gob.int, Y: gob.int }, 'main.Point');
export const All = gob.struct(
  {
    Bool: gob.bool,
    Int: gob.int,
    Neg: gob.int,
    Uint: gob.uint,
    Float: gob.float,
    Complex: gob.complex,
    String: gob.string,
    Bytes: gob.bytes,
    Strings: gob.slice(gob.string),
    Array: gob.array(gob.int, 3),
    Map: gob.map(gob.string, gob.int),
    Iface: gob.interface,
    Inner,
  },
  'main.All',
);
// Outer.P and Outer.Q are *Inner in Go: pointers are transparent.
export const Outer = gob.struct({ Name: gob.string, In: Inner, P: Inner, Q: Inner }, 'main.Outer');
export const Node: GobStructType = gob.struct({ Val: gob.int, Next: gob.lazy(() => Node) }, 'main.Node');
export const Holder = gob.struct({ I: gob.interface }, 'main.Holder');
export const Wrap = gob.struct({ V: gob.interface }, 'main.Wrap');
export const Poly = gob.struct({ Pts: gob.slice(Point) }, 'main.Poly');
export const Event = gob.struct({ At: gob.opaque('time.Time'), Name: gob.string }, 'main.Event');
export const Args = gob.struct({ A: gob.int, B: gob.int }, 'main.Args');
export const Request = gob.struct({ ServiceMethod: gob.string, Seq: gob.uint }, 'rpc.Request');
export const Response = gob.struct(
  { ServiceMethod: gob.string, Seq: gob.uint, Error: gob.string },
  'rpc.Response',
);

const one = (type: GobType, input: unknown, decoded?: unknown): CaseValue[] => [
  decoded === undefined ? { type, input } : { type, input, decoded },
];
const point = (X: number, Y: number): GobInterface => new GobInterface('main.Point', Point, { X, Y });
const ZERO_ALL = {
  Bool: false,
  Int: 0,
  Neg: 0,
  Uint: 0,
  Float: 0,
  Complex: { re: 0, im: 0 },
  String: '',
  Bytes: Buffer.alloc(0),
  Strings: [],
  Array: [0, 0, 0],
  Map: new Map(),
  Iface: null,
  Inner: { X: 0, S: '' },
};
/** time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC).GobEncode() */
const TIME_BYTES = Buffer.from('010000000edd25742500000006ffff', 'hex');

export const CASES: Record<string, CaseValue[]> = {
  bool_true: one(gob.bool, true),
  bool_false: one(gob.bool, false),
  int_0: one(gob.int, 0),
  int_1: one(gob.int, 1),
  int_neg1: one(gob.int, -1),
  int_300: one(gob.int, 300),
  int_neg129: one(gob.int, -129),
  int_2p53p1: one(gob.int, 2n ** 53n + 1n),
  int_max: one(gob.int, 2n ** 63n - 1n),
  int_min: one(gob.int, -(2n ** 63n)),
  uint_0: one(gob.uint, 0),
  uint_127: one(gob.uint, 127),
  uint_128: one(gob.uint, 128),
  uint_256: one(gob.uint, 256),
  uint_big: one(gob.uint, 2n ** 63n + 5n),
  uint_max: one(gob.uint, 2n ** 64n - 1n),
  float_0: one(gob.float, 0),
  float_17: one(gob.float, 17),
  float_neg_half: one(gob.float, -0.5),
  float_1e300: one(gob.float, 1e300),
  float_inf: one(gob.float, Number.POSITIVE_INFINITY),
  float_neg_zero: one(gob.float, -0),
  complex: one(gob.complex, { re: 1.5, im: -2 }),
  string_empty: one(gob.string, ''),
  string_hello: one(gob.string, 'hello'),
  string_utf8: one(gob.string, 'héllo, 世界 🌍'),
  bytes: one(gob.bytes, Buffer.from([1, 2, 3, 255])),
  bytes_empty: one(gob.bytes, Buffer.alloc(0)),
  strings: one(gob.slice(gob.string), ['a', 'bc']),
  ints: one(gob.slice(gob.int), [1, -1, 300]),
  ints_empty: one(gob.slice(gob.int), []),
  array: one(gob.array(gob.int, 3), [1, 2, 3]),
  map_string_int: one(gob.map(gob.string, gob.int), new Map([['answer', 42]])),
  map_int_string: one(gob.map(gob.int, gob.string), new Map([[7, 'seven']])),
  map_struct: one(gob.map(gob.string, Point), new Map([['p', { X: 1, Y: 2 }]])),
  struct_all: one(All, {
    Bool: true,
    Int: -7,
    Neg: -(2 ** 40),
    Uint: 2n ** 63n + 5n,
    Float: 2.5,
    Complex: { re: 1, im: -1 },
    String: 's',
    Bytes: Buffer.from('xyz'),
    Strings: ['a'],
    Array: [1, 0, 3],
    Map: new Map([['k', 1]]),
    Iface: point(1, 2),
    Inner: { X: 1, S: '' },
  }),
  // Go always sends arrays and non-pointer structs; in JavaScript they must be present to be sent.
  struct_zero: one(All, { Array: [0, 0, 0], Inner: {} }, ZERO_ALL),
  struct_empty_map: one(All, { Array: [0, 0, 0], Map: new Map(), Strings: [], Inner: {} }, ZERO_ALL),
  nested: one(
    Outer,
    { Name: 'o', In: { X: 1, S: 'in' }, P: { X: 2, S: 'p' } },
    { Name: 'o', In: { X: 1, S: 'in' }, P: { X: 2, S: 'p' }, Q: null },
  ),
  list: one(
    Node,
    { Val: 1, Next: { Val: 2, Next: { Val: 3 } } },
    { Val: 1, Next: { Val: 2, Next: { Val: 3, Next: null } } },
  ),
  iface: one(Holder, { I: point(3, 4) }),
  iface_int: one(Holder, { I: new GobInterface('int', gob.int, 42) }),
  iface_nil: one(Holder, { I: null }),
  iface_nested: one(Holder, { I: new GobInterface('main.Wrap', Wrap, { V: point(5, 6) }) }),
  slice_iface: one(gob.slice(gob.interface), [
    new GobInterface('int', gob.int, 1),
    new GobInterface('string', gob.string, 'a'),
    null,
    point(1, 2),
  ]),
  points: one(gob.slice(Point), [
    { X: 1, Y: 2 },
    { X: 3, Y: 4 },
  ]),
  poly: one(Poly, { Pts: [{ X: 1, Y: 2 }] }),
  twice: [
    { type: Point, input: { X: 1, Y: 2 } },
    { type: Point, input: { X: 3, Y: 4 } },
  ],
  args: one(Args, { A: 7, B: 8 }),
  rpc_request: [
    { type: Request, input: { ServiceMethod: 'Arith.Multiply', Seq: 0 } },
    { type: Args, input: { A: 7, B: 8 } },
  ],
  rpc_response: [
    {
      type: Response,
      input: { ServiceMethod: 'Arith.Multiply', Seq: 0 },
      decoded: { ServiceMethod: 'Arith.Multiply', Seq: 0, Error: '' },
    },
    { type: gob.int, input: 56 },
  ],
  rpc_error: [
    { type: Response, input: { ServiceMethod: 'Arith.Divide', Seq: 1, Error: 'divide by zero' } },
    { type: gob.struct({}, ''), input: {} },
  ],
  time: one(Event, { At: TIME_BYTES, Name: 'e' }),
};

/** GOLDEN maps each case name to the hex of Go's encoding, from fixtures/golden.txt. */
export const GOLDEN_PATH = path.join(ROOT, 'test', 'rpc', 'gob', 'fixtures', 'golden.txt');

export function readGolden(text = readFileSync(GOLDEN_PATH, 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [name, hex] = line.split(' ');
    out.set(name!, hex!);
  }
  return out;
}

/**
 * plain turns decoded values into something deepStrictEqual can compare
 * with the table: a GobInterface becomes { iface: name, value }, since
 * its decoded type carries the wire's names, not the schema's.
 */
export function plain(v: unknown): unknown {
  if (v instanceof GobInterface) return { iface: v.name, value: plain(v.value) };
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [plain(k), plain(x)]));
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}
