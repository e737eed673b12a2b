/**
 * The JSON view of `netkit http get` on a terminal: a JSON body indented
 * by two spaces and coloured, every token kept exactly as the server
 * wrote it (no number is rounded, no escape undone, no duplicate key
 * dropped), which is why it re-indents tokens instead of going through
 * JSON.parse and JSON.stringify.
 */

/**
 * JSON_VIEW_LIMIT is the largest body that is pretty-printed (8 MiB): the
 * view holds the body and its indented copy in memory, so a larger body
 * is written raw, as it arrived.
 */
export const JSON_VIEW_LIMIT = 8 * 1024 * 1024;

// jq's choice of roles: keys, strings, numbers and the literals each get their own colour.
const COLOR = {
  key: '\x1b[1;34m',
  string: '\x1b[32m',
  number: '\x1b[36m',
  literal: '\x1b[33m',
  reset: '\x1b[0m',
} as const;

/** isJsonContentType is true for `application/json` and any `+json` type (`application/problem+json`), parameters ignored. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const type = (value.split(';')[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+\+json$/.test(type);
}

/** JsonViewOptions say where the body goes. */
export interface JsonViewOptions {
  /** terminal is true when a person reads the output: only then is the body re-indented. */
  terminal: boolean;
  /** color paints keys, strings, numbers and literals (false with NO_COLOR, or off a terminal). */
  color: boolean;
}

/**
 * viewBody is what to print for a response body: the indented (and
 * perhaps coloured) JSON when the content type is JSON, the output is a
 * terminal and the body is valid JSON of at most JSON_VIEW_LIMIT bytes;
 * the body's bytes unchanged otherwise.
 */
export function viewBody(
  body: Uint8Array,
  contentType: string | undefined,
  options: JsonViewOptions,
): Uint8Array | string {
  if (!options.terminal || body.byteLength > JSON_VIEW_LIMIT || !isJsonContentType(contentType)) return body;
  return formatJson(body, options.color) ?? body;
}

const DECODER = new TextDecoder('utf-8', { fatal: true });

// Parser states: what may come next.
const VALUE = 0; // any value
const FIRST_VALUE = 1; // a value or `]` (just after `[`)
const KEY = 2; // a string key (after `,` in an object)
const FIRST_KEY = 3; // a string key or `}` (just after `{`)
const COLON = 4;
const AFTER = 5; // `,`, a closing bracket, or the end

/**
 * formatJson indents the JSON text in `body` by two spaces, one member or
 * element per line, ending with a newline; `color` adds ANSI colours. It
 * returns undefined when the body is not UTF-8 or not one valid JSON
 * value (RFC 8259), so the caller can print it raw; also when it nests
 * deeper than MAX_DEPTH or its view would pass MAX_VIEW_CHARS, as a body
 * of nested `[` would: indentation grows with depth, so a small body can
 * ask for gigabytes of spaces. Characters that could steer a terminal
 * (DEL, C1 controls, bidi overrides) are shown as `\u` escapes, which
 * mean the same in JSON.
 */
export function formatJson(body: Uint8Array, color: boolean): string | undefined {
  let text: string;
  try {
    text = DECODER.decode(body);
  } catch {
    return undefined;
  }
  const paint = (role: keyof typeof COLOR, s: string) => (color ? `${COLOR[role]}${s}${COLOR.reset}` : s);
  const out: string[] = [];
  let size = 0;
  const push = (...parts: string[]) => {
    for (const part of parts) {
      out.push(part);
      size += part.length;
    }
  };
  const stack: number[] = [];
  const n = text.length;
  let state = VALUE;
  let i = 0;
  const newline = () => `\n${'  '.repeat(stack.length)}`;
  for (;;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    if (size > MAX_VIEW_CHARS) return undefined;
    const c = text.charCodeAt(i);
    if (state === AFTER) {
      const top = stack.at(-1);
      if (top === undefined) return undefined; // text after the value
      if (c === 0x2c /* , */) {
        push(',', newline());
        state = top === 0x7b ? KEY : VALUE;
        i++;
      } else if (c === top + 2 /* `{`+2 is `}`, `[`+2 is `]` */) {
        stack.pop();
        push(newline(), String.fromCharCode(c));
        i++;
      } else return undefined;
      continue;
    }
    if (state === COLON) {
      if (c !== 0x3a /* : */) return undefined;
      push(': ');
      state = VALUE;
      i++;
      continue;
    }
    if ((state === FIRST_KEY && c === 0x7d) || (state === FIRST_VALUE && c === 0x5d)) {
      // An empty object or array stays on one line: `{}`, `[]`.
      stack.pop();
      push(String.fromCharCode(c));
      state = AFTER;
      i++;
      continue;
    }
    if (state === FIRST_KEY || state === FIRST_VALUE) push(newline());
    if (state === KEY || state === FIRST_KEY) {
      const end = c === 0x22 ? stringEnd(text, i) : -1;
      if (end < 0) return undefined;
      push(paint('key', safe(text.slice(i, end))));
      state = COLON;
      i = end;
      continue;
    }
    // A value.
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_DEPTH) return undefined;
      stack.push(c);
      push(String.fromCharCode(c));
      state = c === 0x7b ? FIRST_KEY : FIRST_VALUE;
      i++;
      continue;
    }
    let end: number;
    let role: keyof typeof COLOR;
    if (c === 0x22 /* " */) {
      end = stringEnd(text, i);
      role = 'string';
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      end = NUMBER.test(text) ? NUMBER.lastIndex : -1;
      role = 'number';
    } else {
      end = literalEnd(text, i);
      role = 'literal';
    }
    if (end < 0) return undefined;
    push(paint(role, role === 'string' ? safe(text.slice(i, end)) : text.slice(i, end)));
    state = AFTER;
    i = end;
  }
  // Complete only after one whole value, every bracket closed.
  if (state !== AFTER || stack.length > 0) return undefined;
  push('\n');
  return out.join('');
}

/** MAX_DEPTH is the deepest nesting viewed; JSON nested deeper is printed raw. */
const MAX_DEPTH = 256;

/** MAX_VIEW_CHARS bounds the indented text (8 times the largest body viewed); past it the body is printed raw. */
const MAX_VIEW_CHARS = 8 * JSON_VIEW_LIMIT;

// RFC 8259 section 6: no leading zeros, no bare `.5`, no `+`.
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** literalEnd is the index after `true`, `false` or `null` at `i`, or -1. */
function literalEnd(text: string, i: number): number {
  for (const word of ['true', 'false', 'null']) {
    if (text.startsWith(word, i)) return i + word.length;
  }
  return -1;
}

/**
 * stringEnd is the index after the JSON string starting at `i` (a `"`),
 * or -1 when it is not one: unterminated, a raw control character, or a
 * bad escape (RFC 8259 section 7).
 */
function stringEnd(text: string, i: number): number {
  const n = text.length;
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c /* \ */) {
      const e = text.charCodeAt(j + 1);
      if (e === 0x75 /* u */) {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return -1;
        j += 5;
      } else if (ESCAPES.has(e)) j++;
      else return -1;
    }
  }
  return -1;
}

const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]); // " \ / b f n r t

// DEL and C1 controls (a raw U+009B is a CSI to many terminals), line separators, bidi overrides and isolates.
const UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** safe escapes what a terminal would act on instead of showing, in a JSON string token. */
function safe(token: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(token)) return token;
  return token.replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
