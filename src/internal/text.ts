/**
 * Text helpers for showing untrusted bytes to people: nothing raw from the
 * network reaches a terminal, so a peer cannot send escape sequences that
 * rewrite the screen.
 */
import { isUtf8 } from 'node:buffer';

/** unescapeText expands `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` typed on a command line. */
export function unescapeText(text: string): Buffer {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x5c || i + 1 >= raw.length) {
      bytes.push(c);
      continue;
    }
    const n = String.fromCharCode(raw[i + 1]!);
    const simple: Record<string, number> = { r: 13, n: 10, t: 9, '0': 0, '\\': 0x5c };
    if (n in simple) {
      bytes.push(simple[n]!);
      i++;
    } else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(raw.toString('latin1', i + 2, i + 4))) {
      bytes.push(Number.parseInt(raw.toString('latin1', i + 2, i + 4), 16));
      i += 3;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes);
}

/**
 * UNSAFE is what never reaches a terminal raw: C0 controls but tab and
 * newline (handled by the caller's choice), DEL and C1 controls (0x9b is
 * a one-byte CSI on some terminals), the Unicode bidirectional marks,
 * embeddings, overrides and isolates that make `exe.txt` display as
 * `txt.exe` (Trojan Source, CVE-2021-42574), the line and paragraph
 * separators, and lone surrogates (they cannot be printed as UTF-8).
 */
const UNSAFE =
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|\n|\t|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** SafeTextOptions says which whitespace may pass through unescaped. */
export interface SafeTextOptions {
  /** keepNewlines leaves `\n` as a line break (default false: shown as `\n`). */
  keepNewlines?: boolean;
  /** keepTabs leaves tab as it is (default true); off where a tab could pass for a separator. */
  keepTabs?: boolean;
}

/**
 * safeText is the one way netkit shows peer-supplied text to a person.
 * Bytes are decoded as UTF-8; bytes that are not valid UTF-8 become `\xHH`
 * (never U+FFFD, which would hide what was sent); control characters
 * become `\xHH` (`\r` and `\n` as themselves escaped), and bidirectional
 * controls, line separators and lone surrogates become `\uHHHH`. A string
 * is taken as already decoded. The second argument may be a boolean
 * (keepNewlines) for brevity.
 */
export function safeText(input: Uint8Array | string, options: SafeTextOptions | boolean = {}): string {
  const { keepNewlines = false, keepTabs = true } =
    typeof options === 'boolean' ? { keepNewlines: options } : options;
  const text = typeof input === 'string' ? input : decodeLossless(input);
  // Printable ASCII, the common case for names, addresses and headers, has nothing to escape:
  // one native test instead of the replace below, which logs run on every value.
  if (PRINTABLE_ASCII.test(text)) return text;
  return text.replace(UNSAFE, (ch) => {
    if (ch === '\n') return keepNewlines ? '\n' : '\\n';
    if (ch === '\t') return keepTabs ? '\t' : '\\t';
    if (ch === '\r') return '\\r';
    const c = ch.charCodeAt(0);
    return c <= 0xff ? `\\x${hex2(c)}` : `\\u${c.toString(16).padStart(4, '0')}`;
  });
}

/**
 * decodeLossless decodes UTF-8, turning each byte that is not part of a
 * valid sequence into `\xHH`. Valid input (the common case) takes one
 * native check and one native decode.
 */
function decodeLossless(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let start = 0;
  let i = 0;
  while (i < buf.length) {
    const n = sequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += `${buf.toString('utf8', start, i)}\\x${hex2(buf[i]!)}`;
    i++;
    start = i;
  }
  return out + buf.toString('utf8', start);
}

/** sequenceLength is the length of the valid UTF-8 sequence at `i` (RFC 3629 table 4), or 0. */
function sequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** JSON_UNSAFE is what JSON.stringify leaves raw but a terminal would act on: DEL, C1, bidi controls, separators. */
const JSON_UNSAFE = /[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * jsonLine is JSON.stringify for output a person may see on a terminal:
 * still valid JSON, with the characters JSON.stringify leaves raw but a
 * terminal would act on (C1 controls, bidi overrides) written as `\uHHHH`.
 * (JSON.stringify already escapes C0 controls and lone surrogates.)
 */
export function jsonLine(value: unknown): string {
  return terminalSafeJson(JSON.stringify(value, roundNumbers));
}

/**
 * roundNumbers keeps what a measurement means and drops float noise
 * (`6.760671000000002` → `6.761`): three decimals from 1 up, three
 * significant digits below. Integers, counts and byte offsets pass as they are.
 */
function roundNumbers(_key: string, v: unknown): unknown {
  if (typeof v !== 'number' || Number.isInteger(v) || !Number.isFinite(v)) return v;
  return Math.abs(v) >= 1 ? Math.round(v * 1000) / 1000 : Number(v.toPrecision(3));
}

/** terminalSafeJson applies jsonLine's escaping to JSON text made by another serializer. */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const hex2 = (c: number) => c.toString(16).padStart(2, '0');

/** hexDump renders bytes like `xxd`: offset, 16 hex bytes, and printable ASCII. */
export function hexDump(bytes: Uint8Array, offset = 0): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
    const pairs: string[] = [];
    for (let j = 0; j < hex.length; j += 2) pairs.push(hex.slice(j, j + 2).join(''));
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(offset + i).toString(16).padStart(8, '0')}: ${pairs.join(' ').padEnd(39)}  ${ascii}`);
  }
  return lines.join('\n');
}

/** formatBytes renders a byte count for people: `512B`, `1.5KiB`, `3.2MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)}${units[u]}`;
}
