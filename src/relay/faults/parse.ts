import { InvalidArgumentError } from '../../errors.js';
import { parseDuration } from '../../internal/duration.js';
import type { Stream } from '../types.js';
import { checkToxic, type ToxicSpec, type ToxicType } from './spec.js';

/**
 * The `--fault` flag of `netkit relay`: one fault per flag, written as
 * the fault and its value, then options, all separated by commas:
 *
 * ```
 * --fault latency=100ms,jitter=20ms,stream=up
 * --fault bandwidth=64KB            # KB/s, 1 KB = 1000 bytes (Toxiproxy's unit)
 * --fault slicer=4,variation=2,delay=10ms
 * --fault close-after=1000          # limit_data: FIN after 1000 bytes
 * --fault reset=5s,after=1KiB       # reset_peer: RST 5s after the 1024th byte
 * --fault blackhole-after=1000      # timeout: hold everything after 1000 bytes
 * --fault timeout=5s,toxicity=0.5   # hold everything, close after 5s, on half the connections
 * --fault slow-close=2s
 * --fault refuse=0.3                # reset 30% of new connections at accept
 * ```
 *
 * Durations are Go's (`500ms`, `1m30s`; a bare number is seconds), byte
 * counts take `KiB`/`MiB`/`GiB` (`k`, `KB` mean KiB, as elsewhere on
 * netkit's command line), rates are KB/s as in Toxiproxy. Every fault
 * takes `stream=up|down|both` (default down, as in Toxiproxy; `both`
 * makes two toxics, named `<name>_upstream` and `<name>_downstream`),
 * `toxicity=0.5` (or `50%`) and `name=…`. Toxiproxy's type names work as
 * fault names too (`limit_data=1000`, `reset_peer`, `slow_close=2s`).
 */

type Kind = 'duration' | 'micros' | 'bytes' | 'rate' | 'fraction';

/** Head is a fault word: the toxic it makes, what its value sets, and the attributes it fixes. */
interface Head {
  type: ToxicType;
  /** value is the attribute its value sets (`toxicity` for refuse); undefined when it takes none. */
  value?: { attr: string; kind: Kind; optional?: true };
  fixed?: Record<string, number>;
  /** options are the fault's own keys, each setting an attribute. */
  options?: Record<string, { attr: string; kind: Kind }>;
}

const AFTER = { after: { attr: 'bytes', kind: 'bytes' as const } };

const HEADS: Record<string, Head> = {
  latency: {
    type: 'latency',
    value: { attr: 'latency', kind: 'duration' },
    options: { jitter: { attr: 'jitter', kind: 'duration' } },
  },
  bandwidth: { type: 'bandwidth', value: { attr: 'rate', kind: 'rate' } },
  slicer: {
    type: 'slicer',
    value: { attr: 'average_size', kind: 'bytes' },
    options: {
      variation: { attr: 'size_variation', kind: 'bytes' },
      'size-variation': { attr: 'size_variation', kind: 'bytes' },
      delay: { attr: 'delay', kind: 'micros' },
    },
  },
  'limit-data': { type: 'limit_data', value: { attr: 'bytes', kind: 'bytes' } },
  'close-after': { type: 'limit_data', value: { attr: 'bytes', kind: 'bytes' } },
  reset: { type: 'reset_peer', value: { attr: 'timeout', kind: 'duration', optional: true }, options: AFTER },
  'reset-peer': {
    type: 'reset_peer',
    value: { attr: 'timeout', kind: 'duration', optional: true },
    options: AFTER,
  },
  'reset-after': { type: 'reset_peer', value: { attr: 'bytes', kind: 'bytes' } },
  timeout: { type: 'timeout', value: { attr: 'timeout', kind: 'duration' }, options: AFTER },
  blackhole: { type: 'timeout', fixed: { timeout: 0 }, options: AFTER },
  'blackhole-after': { type: 'timeout', value: { attr: 'bytes', kind: 'bytes' }, fixed: { timeout: 0 } },
  'slow-close': { type: 'slow_close', value: { attr: 'delay', kind: 'duration' } },
  refuse: { type: 'refuse', value: { attr: 'toxicity', kind: 'fraction', optional: true } },
  noop: { type: 'noop' },
};

const COMMON = ['stream', 'toxicity', 'name'];

/**
 * parseFaults reads one `--fault` value into the toxics it makes: one, or
 * two for `stream=both`. A mistake is an InvalidArgumentError naming
 * `--fault` and saying what the part allows.
 */
export function parseFaults(text: string): ToxicSpec[] {
  const fail = (message: string): never => {
    throw new InvalidArgumentError('--fault', `"${text}": ${message}`);
  };
  const [first = '', ...rest] = text.split(',').map((p) => p.trim());
  const [word = '', value] = splitPair(first);
  const head = HEADS[word.toLowerCase().replaceAll('_', '-')];
  if (head === undefined) {
    return fail(`"${word}" is not a fault; the faults are ${Object.keys(HEADS).join(', ')}`);
  }
  const attributes: Record<string, number> = { ...head.fixed };
  let toxicity: number | undefined;
  let streams: Stream[] = ['downstream'];
  let name: string | undefined;
  const read = (key: string, text: string, kind: Kind): number => {
    try {
      return readValue(text, kind);
    } catch (err) {
      return fail(`${key}: ${(err as Error).message}`);
    }
  };

  if (head.value === undefined) {
    if (value !== undefined) fail(`${word} takes no value`);
  } else if (value === undefined) {
    if (head.value.optional !== true) fail(`${word} needs a value, e.g. ${example(head.value.kind, word)}`);
  } else if (head.value.attr === 'toxicity') toxicity = read(word, value, 'fraction');
  else attributes[head.value.attr] = read(word, value, head.value.kind);

  const seen = new Set<string>();
  for (const part of rest) {
    const [key = '', v] = splitPair(part);
    const k = key.toLowerCase();
    const own = head.options?.[k];
    if (own === undefined && !COMMON.includes(k)) {
      const keys = [...Object.keys(head.options ?? {}), ...COMMON];
      fail(`"${key}" is not an option of ${word}; its options are ${keys.join(', ')}`);
    }
    if (v === undefined || v === '') fail(`${key} needs a value`);
    if (seen.has(k)) fail(`${key} is given twice`);
    seen.add(k);
    const val = v!;
    if (own !== undefined) {
      if (own.attr in attributes && head.fixed?.[own.attr] === undefined) fail(`${key} is given twice`);
      attributes[own.attr] = read(key, val, own.kind);
    } else if (k === 'stream')
      streams = readStreams(val) ?? fail(`stream must be up, down or both, not "${val}"`);
    else if (k === 'toxicity') {
      if (toxicity !== undefined) fail(`toxicity is given twice (${word}=… is the toxicity)`);
      toxicity = read(key, val, 'fraction');
    } else name = val;
  }

  // refuse acts on the connection, not on a stream: one toxic, rolled once.
  if (head.type === 'refuse') streams = streams.slice(0, 1);
  return streams.map((stream) => {
    const input = {
      ...(name !== undefined ? { name: streams.length > 1 ? `${name}_${stream}` : name } : {}),
      type: head.type,
      stream,
      ...(toxicity !== undefined ? { toxicity } : {}),
      attributes,
    };
    try {
      return checkToxic(input);
    } catch (err) {
      return fail((err as Error).message);
    }
  });
}

/** parseFault is parseFaults for a value that makes one toxic; `stream=both` is refused. */
export function parseFault(text: string): ToxicSpec {
  const specs = parseFaults(text);
  if (specs.length !== 1) {
    throw new InvalidArgumentError('--fault', `"${text}": makes ${specs.length} toxics; use parseFaults`);
  }
  return specs[0]!;
}

function splitPair(part: string): [string, string | undefined] {
  const i = part.indexOf('=');
  return i < 0 ? [part, undefined] : [part.slice(0, i).trim(), part.slice(i + 1).trim()];
}

function readStreams(text: string): Stream[] | undefined {
  switch (text.toLowerCase()) {
    case 'up':
    case 'upstream':
      return ['upstream'];
    case 'down':
    case 'downstream':
      return ['downstream'];
    case 'both':
      return ['upstream', 'downstream'];
    default:
      return undefined;
  }
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024 };
BYTE_UNITS.m = BYTE_UNITS.mb = BYTE_UNITS.mib = 1024 ** 2;
BYTE_UNITS.g = BYTE_UNITS.gb = BYTE_UNITS.gib = 1024 ** 3;

function readValue(text: string, kind: Kind): number {
  switch (kind) {
    case 'duration':
      return parseDuration(text, 'duration');
    case 'micros': {
      // parseDuration rounds to milliseconds; slicer's delay is in µs, so those stay exact.
      const m = /^(\d+)(?:us|µs|μs)$/.exec(text);
      return m ? Number(m[1]) : parseDuration(text, 'duration') * 1000;
    }
    case 'bytes': {
      const m = /^(\d+)\s*([a-z]*)$/i.exec(text);
      const mult = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
      if (!m || mult === undefined)
        throw new Error(`"${text}" is not a byte count; use e.g. 1000, 64KiB, 1MiB`);
      return Number(m[1]) * mult;
    }
    case 'rate': {
      const m = /^(\d+)\s*(kb|mb)?(?:\/s|ps)?$/i.exec(text);
      if (!m) throw new Error(`"${text}" is not a rate; use KB/s, e.g. 64, 64KB, 1MB (1 KB = 1000 bytes)`);
      return Number(m[1]) * (m[2]?.toLowerCase() === 'mb' ? 1000 : 1);
    }
    case 'fraction': {
      const m = /^(\d+(?:\.\d+)?|\.\d+)(%?)$/.exec(text);
      const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : Number.NaN;
      if (!(n >= 0 && n <= 1)) throw new Error(`"${text}" is not a fraction from 0 to 1 (or 0% to 100%)`);
      return n;
    }
  }
}

function example(kind: Kind, word: string): string {
  const v = { duration: '100ms', micros: '10ms', bytes: '1000', rate: '64KB', fraction: '0.5' }[kind];
  return `${word}=${v}`;
}
