/**
 * A JSON notation for gob types, for places where code cannot be written
 * (the CLI's --schema): a scalar is its name (`"int"`, `"uint"`, `"float"`,
 * `"bool"`, `"string"`, `"bytes"`, `"complex"`, `"interface"`), `["T"]` is a
 * slice of T, `{"A": "int", "B": "float"}` a struct with those fields in that
 * order, `{"$map": ["string", "int"]}` a map and `{"$array": ["int", 3]}` a
 * fixed-size array. `{"$struct": "Name", ...fields}` names a struct.
 */
import { InvalidArgumentError } from '../errors.js';
import { type GobType, gob } from './gob/index.js';

const SCALARS: Record<string, GobType> = {
  bool: gob.bool,
  int: gob.int,
  uint: gob.uint,
  float: gob.float,
  complex: gob.complex,
  string: gob.string,
  bytes: gob.bytes,
  interface: gob.interface,
};

function build(spec: unknown, where: string, depth: number): GobType {
  if (depth > 32) throw new InvalidArgumentError('schema', `nested too deeply at ${where}`);
  if (typeof spec === 'string') {
    const t = SCALARS[spec];
    if (!t)
      throw new InvalidArgumentError(
        'schema',
        `unknown type "${spec}" at ${where}; use one of ${Object.keys(SCALARS).join(', ')}`,
      );
    return t;
  }
  if (Array.isArray(spec)) {
    if (spec.length !== 1)
      throw new InvalidArgumentError('schema', `a slice is ["T"] (one element) at ${where}`);
    return gob.slice(build(spec[0], `${where}[]`, depth + 1));
  }
  if (typeof spec === 'object' && spec !== null) {
    const o = spec as Record<string, unknown>;
    if ('$map' in o) {
      const kv = o.$map;
      if (!Array.isArray(kv) || kv.length !== 2)
        throw new InvalidArgumentError('schema', `{"$map": [K, V]} at ${where}`);
      return gob.map(build(kv[0], `${where}<key>`, depth + 1), build(kv[1], `${where}<value>`, depth + 1));
    }
    if ('$array' in o) {
      const tn = o.$array;
      if (!Array.isArray(tn) || tn.length !== 2 || !Number.isInteger(tn[1]) || (tn[1] as number) < 0) {
        throw new InvalidArgumentError('schema', `{"$array": [T, length]} at ${where}`);
      }
      return gob.array(build(tn[0], `${where}[]`, depth + 1), tn[1] as number);
    }
    const fields: Record<string, GobType> = {};
    for (const [name, t] of Object.entries(o)) {
      if (name === '$struct') continue;
      fields[name] = build(t, where === '' ? name : `${where}.${name}`, depth + 1);
    }
    return gob.struct(fields, typeof o.$struct === 'string' ? o.$struct : '');
  }
  throw new InvalidArgumentError('schema', `not a type at ${where || 'top level'}: ${JSON.stringify(spec)}`);
}

/** parseSchemaNotation turns the JSON notation (text or parsed) into a gob type. */
export function parseSchemaNotation(spec: string | unknown): GobType {
  let value = spec;
  if (typeof spec === 'string') {
    try {
      value = JSON.parse(spec);
    } catch {
      value = spec; // a bare scalar name such as int
    }
  }
  return build(value, '', 0);
}
