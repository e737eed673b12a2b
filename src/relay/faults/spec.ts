import { InvalidArgumentError } from '../../errors.js';
import { shown } from '../../internal/validate.js';
import type { Stream } from '../types.js';

/**
 * The toxics `netkit relay` knows, in Toxiproxy's JSON shape, and their
 * validation. Toxiproxy's own types keep Toxiproxy's names, units and
 * defaults, so its REST clients work unchanged; netkit's additions are
 * marked as such.
 */

/**
 * ToxicType names a fault. Toxiproxy's: `latency`, `bandwidth`, `slicer`,
 * `limit_data`, `reset_peer`, `timeout`, `slow_close`, `noop`. netkit's:
 * `refuse` (reset a share of new connections at accept).
 */
export type ToxicType =
  | 'latency'
  | 'bandwidth'
  | 'slicer'
  | 'limit_data'
  | 'reset_peer'
  | 'timeout'
  | 'slow_close'
  | 'noop'
  | 'refuse';

/** ToxicSpec is one checked toxic: what checkToxic returns, frozen. */
export interface ToxicSpec {
  /** name is the toxic's name, unique in its relay (`latency_downstream` by default, as in Toxiproxy). */
  readonly name: string;
  /** type is the kind of fault. */
  readonly type: ToxicType;
  /** stream is the direction it applies to: upstream is client → target. */
  readonly stream: Stream;
  /** toxicity is the chance, from 0 to 1, that the toxic applies to a connection (rolled once per connection). */
  readonly toxicity: number;
  /** attributes holds every attribute of the type, defaults filled in; units as in ATTRIBUTES. */
  readonly attributes: Readonly<Record<string, number>>;
}

/** AttributeInfo describes one attribute: its unit, bounds and Toxiproxy default. */
export interface AttributeInfo {
  readonly unit: 'ms' | 'µs' | 'bytes' | 'KB/s';
  readonly min: number;
  readonly max: number;
  readonly default: number;
  /** netkit marks an attribute Toxiproxy does not have. */
  readonly netkit?: true;
}

// Timer delays in Node stop at 2^31-1 ms (about 24.8 days); longer ones fire at once.
const MAX_MS = 2 ** 31 - 1;
const ms = (def = 0): AttributeInfo => ({ unit: 'ms', min: 0, max: MAX_MS, default: def });
const bytes = (min = 0, netkit = false): AttributeInfo => ({
  unit: 'bytes',
  min,
  max: Number.MAX_SAFE_INTEGER,
  default: 0,
  ...(netkit ? { netkit: true as const } : {}),
});

/**
 * ATTRIBUTES lists each type's attributes. Defaults are Toxiproxy's (Go's
 * zero values), except slicer's average_size: at 0 Toxiproxy never stops
 * slicing, so netkit asks for at least 1.
 */
export const ATTRIBUTES: Readonly<Record<ToxicType, Readonly<Record<string, AttributeInfo>>>> = Object.freeze(
  {
    latency: { latency: ms(), jitter: ms() },
    bandwidth: { rate: { unit: 'KB/s', min: 0, max: MAX_MS, default: 0 } },
    slicer: {
      average_size: { ...bytes(1), default: 1 },
      size_variation: bytes(),
      delay: { unit: 'µs', min: 0, max: MAX_MS * 1000, default: 0 },
    },
    limit_data: { bytes: bytes() },
    reset_peer: { timeout: ms(), bytes: bytes(0, true) },
    timeout: { timeout: ms(), bytes: bytes(0, true) },
    slow_close: { delay: ms() },
    noop: {},
    refuse: {},
  },
);

/** TOXIC_TYPES lists every type checkToxic accepts. */
export const TOXIC_TYPES = Object.freeze(Object.keys(ATTRIBUTES) as ToxicType[]);

const FIELDS = ['name', 'type', 'stream', 'toxicity', 'attributes'];

/**
 * checkToxic checks a toxic in Toxiproxy's JSON shape, `{name?, type,
 * stream?, toxicity?, attributes?}`, and returns a frozen ToxicSpec.
 * Defaults are Toxiproxy's: stream `downstream`, toxicity 1, name
 * `<type>_<stream>`, attributes Go's zero values. Given `existing`, it is
 * an update, as Toxiproxy's POST /proxies/{proxy}/toxics/{toxic}: toxicity
 * and the attributes given replace those of `existing`, the rest are kept.
 * Every failure is an InvalidArgumentError naming the field
 * (`attributes.latency`, `stream`, `type`) and what it allows.
 */
export function checkToxic(input: unknown, existing?: ToxicSpec): ToxicSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError('toxic', `must be an object like {"type":"latency"}, got ${shown(input)}`);
  }
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!FIELDS.includes(key)) {
      throw new InvalidArgumentError(key, `is not a toxic field; the fields are ${FIELDS.join(', ')}`);
    }
  }
  const type = checkType(raw.type ?? existing?.type);
  if (existing !== undefined && type !== existing.type) {
    throw new InvalidArgumentError(
      'type',
      `a toxic cannot change type (${existing.type} to ${type}); remove it and add a new one`,
    );
  }
  const stream = raw.stream === undefined ? (existing?.stream ?? 'downstream') : checkStream(raw.stream);
  let name: string;
  if (raw.name === undefined || raw.name === null || raw.name === '')
    name = existing?.name ?? `${type}_${stream}`;
  else if (typeof raw.name !== 'string') {
    throw new InvalidArgumentError('name', `must be a string, got ${shown(raw.name)}`);
  } else name = raw.name;
  if (existing !== undefined && name !== existing.name) {
    throw new InvalidArgumentError('name', `a toxic cannot be renamed (${existing.name} to ${name})`);
  }
  const toxicity = raw.toxicity === undefined ? (existing?.toxicity ?? 1) : checkToxicity(raw.toxicity);
  const attributes = checkAttributes(type, raw.attributes, existing?.attributes);
  return Object.freeze({ name, type, stream, toxicity, attributes });
}

function checkType(value: unknown): ToxicType {
  if (typeof value !== 'string' || !(TOXIC_TYPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      'type',
      `${value === undefined ? 'is missing' : `${shown(value)} is not a toxic type`}; the types are ${TOXIC_TYPES.join(', ')}`,
    );
  }
  return value as ToxicType;
}

// Toxiproxy lower-cases the stream before it compares (stream.ParseDirection).
function checkStream(value: unknown): Stream {
  const s = typeof value === 'string' ? value.toLowerCase() : value;
  if (s !== 'upstream' && s !== 'downstream') {
    throw new InvalidArgumentError('stream', `must be upstream or downstream, got ${shown(value)}`);
  }
  return s;
}

function checkToxicity(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidArgumentError('toxicity', `must be a number from 0 to 1, got ${shown(value)}`);
  }
  return value;
}

function checkAttributes(
  type: ToxicType,
  value: unknown,
  base: Readonly<Record<string, number>> | undefined,
): Readonly<Record<string, number>> {
  const info = ATTRIBUTES[type];
  const names = Object.keys(info);
  const out: Record<string, number> = {};
  for (const n of names) out[n] = base?.[n] ?? info[n]!.default;
  // Go's JSON decoder leaves the defaults in place for a null.
  if (value === undefined || value === null) return Object.freeze(out);
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError('attributes', `must be an object, got ${shown(value)}`);
  }
  for (const [key, v] of Object.entries(value)) {
    const a = info[key];
    if (a === undefined) {
      throw new InvalidArgumentError(
        `attributes.${key}`,
        names.length === 0
          ? `${type} takes no attributes`
          : `is not an attribute of ${type}; its attributes are ${names.join(', ')}`,
      );
    }
    // Toxiproxy's attributes are Go int64s: its decoder refuses 1.5 and "100" alike.
    if (typeof v !== 'number' || !Number.isInteger(v) || v < a.min || v > a.max) {
      throw new InvalidArgumentError(
        `attributes.${key}`,
        `must be a whole number of ${a.unit} from ${a.min} to ${a.max}, got ${shown(v)}`,
      );
    }
    out[key] = v;
  }
  if (type === 'slicer' && out.size_variation! >= out.average_size!) {
    // Below that, each cut of Toxiproxy's slicer leaves both halves non-empty, so slicing ends.
    throw new InvalidArgumentError(
      'attributes.size_variation',
      `must be less than average_size (${out.average_size}), got ${out.size_variation}`,
    );
  }
  return Object.freeze(out);
}
