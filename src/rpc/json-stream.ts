/**
 * Splitting a byte stream into whole JSON values, as Go's json.Decoder reads
 * them: values may follow each other with or without whitespace between them
 * (`{"a":1}{"b":2}\n[1]`), so JSON needs no framing on the wire. Go's
 * net/rpc/jsonrpc relies on this (Go never promises a newline), as does
 * JSON-RPC 2.0 over TCP.
 *
 * The scanner is a small state machine over bytes. It tracks strings (with
 * escapes), the nesting of {} and [], and top-level scalars; it checks what
 * decides where a value ends (bracket kinds match, strings hold no raw
 * control characters, no byte outside a string is foreign to JSON) and
 * leaves the rest of the grammar (`{"a":}`, `1.2.3`) to JSON.parse, which
 * the caller runs on each value anyway. Working on bytes makes UTF-8 split
 * across chunks a non-issue: every byte of a multi-byte character is >= 0x80
 * and never looks like structure.
 *
 * Limits are checked as bytes are scanned, so a hostile peer cannot make us
 * hold more than maxValueBytes (one endless string) or recurse deeper than
 * maxDepth (`[[[[…`). Each byte is looked at once and copied at most once.
 */
import { FrameError, NetkitError } from '../errors.js';
import { asBuffer, ChunkList } from '../framing/chunks.js';
import { StickyFailureDecoder } from '../framing/decoder-base.js';
import { byteLimit, optionsObject, tooLargeAdvice } from '../framing/options.js';
import type { FrameCallback } from '../framing/types.js';
import { checkInt } from '../internal/validate.js';

/** JsonStreamOptions bounds what one JSON value may cost. */
export interface JsonStreamOptions {
  /** maxValueBytes is the longest value accepted, whitespace inside it included (default 16 MiB). */
  maxValueBytes?: number;
  /** maxDepth is the deepest nesting of objects and arrays accepted (default 256). */
  maxDepth?: number;
}

/** JSON_STREAM_DEFAULTS are the splitter's defaults. */
export const JSON_STREAM_DEFAULTS = Object.freeze({ maxValueBytes: 16 * 1024 * 1024, maxDepth: 256 });

/**
 * JsonSyntaxError is a byte that cannot continue the JSON stream, or nesting
 * deeper than maxDepth (NETKIT_RPC_PROTOCOL). `offset` counts bytes from the
 * start of the stream; `limit` is maxDepth when that was the cause. The
 * stream cannot be resynchronised after it.
 */
export class JsonSyntaxError extends NetkitError {
  readonly offset: number;
  readonly limit: number | undefined;
  constructor(message: string, offset: number, limit?: number) {
    super('NETKIT_RPC_PROTOCOL', message);
    this.offset = offset;
    this.limit = limit;
  }
}

// Scanner states.
const IDLE = 0; // between values
const NESTED = 1; // inside an object or array, outside strings
const STRING = 2; // inside a string
const ESCAPE = 3; // after a backslash inside a string
const NUMBER = 4; // a top-level number: it ends only at a byte that cannot continue it
const LITERAL = 5; // a top-level true, false or null

// Byte classes; 0 is a byte that JSON never has outside a string.
const WS = 1;
const NUM = 2; // 0-9 - + . e E
const WORD = 3; // the other letters of true, false, null
const PUNCT = 4; // : ,
const CLASS = new Uint8Array(256);
for (const c of ' \t\n\r') CLASS[c.charCodeAt(0)] = WS;
for (const c of '0123456789-+.eE') CLASS[c.charCodeAt(0)] = NUM;
for (const c of 'aflnrstu') CLASS[c.charCodeAt(0)] = WORD;
for (const c of ':,') CLASS[c.charCodeAt(0)] = PUNCT;
// The bytes allowed after a backslash (RFC 8259 §7).
const ESCAPABLE = new Uint8Array(256);
for (const c of '"\\/bfnrtu') ESCAPABLE[c.charCodeAt(0)] = 1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
// The literals a top-level value may be, by first byte (t, f, n).
const LITERALS: Record<number, Buffer> = {
  116: Buffer.from('true'),
  102: Buffer.from('false'),
  110: Buffer.from('null'),
};

/**
 * JsonValueDecoder is the splitter as a FrameDecoder: each frame is the
 * UTF-8 bytes of one whole JSON value, without surrounding whitespace. Use
 * it with `conn.frames(decoder)`. Frames may share memory with the pushed
 * chunks. Throws JsonSyntaxError (NETKIT_RPC_PROTOCOL) for a malformed or
 * too deep value, FrameError NETKIT_FRAME_TOO_LARGE past maxValueBytes, and
 * at end() NETKIT_FRAME_TRUNCATED if the stream stopped inside a value (a
 * pending top-level number is complete there). After any throw the decoder
 * is dead.
 */
export class JsonValueDecoder extends StickyFailureDecoder {
  readonly maxValueBytes: number;
  readonly maxDepth: number;
  readonly #pending = new ChunkList();
  /** #stack holds the opening bracket of each open container. */
  readonly #stack: Uint8Array;
  #state = IDLE;
  #depth = 0;
  #literal: Buffer = LITERALS[0x74]!;
  #literalAt = 0;
  /** #offset is the stream offset of the chunk being scanned, for error messages. */
  #offset = 0;

  constructor(options: JsonStreamOptions = {}) {
    super();
    const o = optionsObject(options);
    this.maxValueBytes = byteLimit('maxValueBytes', o.maxValueBytes, JSON_STREAM_DEFAULTS.maxValueBytes);
    this.maxDepth = checkInt('maxDepth', o.maxDepth ?? JSON_STREAM_DEFAULTS.maxDepth, 1, 100_000);
    this.#stack = new Uint8Array(this.maxDepth);
  }

  /** buffered is the number of bytes held of the value not yet complete. */
  override get buffered(): number {
    return this.#pending.length;
  }

  protected override scan(chunk: Buffer, onFrame: FrameCallback): void {
    const n = chunk.length;
    const stack = this.#stack;
    let state = this.#state;
    let depth = this.#depth;
    // The current value starts at `start` in this chunk (0 when it began in an
    // earlier one); consuming the byte at `stop` would make it too large.
    let start = 0;
    let stop = state === IDLE ? n : this.maxValueBytes - this.#pending.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (state === IDLE) {
        if (CLASS[b] === WS) continue;
        start = i;
        stop = i + this.maxValueBytes;
        if (b === LBRACE || b === LBRACKET) {
          stack[0] = b;
          depth = 1;
          state = NESTED;
        } else if (b === QUOTE) state = STRING;
        else if (b === MINUS || (b >= 0x30 && b <= 0x39)) state = NUMBER;
        else if (LITERALS[b] !== undefined) {
          this.#literal = LITERALS[b]!;
          this.#literalAt = 1;
          state = LITERAL;
        } else throw this.#syntax(`invalid character ${show(b)} looking for beginning of value`, i);
        continue;
      }
      if (state === NUMBER && CLASS[b] !== NUM) {
        // The number ends before this byte, which is looked at again between values.
        this.#emit(chunk, start, i, onFrame);
        state = IDLE;
        i--;
        continue;
      }
      if (i >= stop) throw this.#tooLarge(this.#pending.length + i - start + 1);
      switch (state) {
        case NESTED:
          if (b === QUOTE) state = STRING;
          else if (b === LBRACE || b === LBRACKET) {
            if (depth === this.maxDepth) {
              throw this.#syntax(
                `JSON nested deeper than maxDepth (${this.maxDepth}); raise maxDepth or flatten the value`,
                i,
                this.maxDepth,
              );
            }
            stack[depth++] = b;
          } else if (b === RBRACE || b === RBRACKET) {
            const open = stack[depth - 1];
            if ((b === RBRACE) !== (open === LBRACE)) {
              throw this.#syntax(`invalid character ${show(b)} after ${show(open!)}`, i);
            }
            if (--depth === 0) {
              this.#emit(chunk, start, i + 1, onFrame);
              state = IDLE;
            }
          } else if (CLASS[b] === 0) throw this.#syntax(`invalid character ${show(b)} in JSON value`, i);
          break;
        case STRING:
          if (b === QUOTE) {
            if (depth > 0) state = NESTED;
            else {
              this.#emit(chunk, start, i + 1, onFrame);
              state = IDLE;
            }
          } else if (b === BACKSLASH) state = ESCAPE;
          else if (b < 0x20) throw this.#syntax(`invalid character ${show(b)} in string literal`, i);
          break;
        case ESCAPE:
          if (ESCAPABLE[b] === 0) throw this.#syntax(`invalid character ${show(b)} in string escape code`, i);
          state = STRING;
          break;
        case NUMBER:
          break;
        default: {
          // LITERAL: Go's decoder accepts `true` as soon as its last letter arrives.
          const lit = this.#literal;
          if (b !== lit[this.#literalAt]) {
            throw this.#syntax(`invalid character ${show(b)} in literal ${lit.toString()}`, i);
          }
          if (++this.#literalAt === lit.length) {
            this.#emit(chunk, start, i + 1, onFrame);
            state = IDLE;
          }
        }
      }
    }
    if (state !== IDLE && start < n) this.#pending.append(start === 0 ? chunk : chunk.subarray(start));
    this.#state = state;
    this.#depth = depth;
    this.#offset += n;
  }

  protected override finish(onFrame: FrameCallback): void {
    const held = this.#pending.length;
    if (this.#state === NUMBER) {
      // A top-level number is complete at the end of the stream, as in Go.
      this.#state = IDLE;
      onFrame(this.#pending.take(held, undefined));
    } else if (this.#state !== IDLE) {
      throw new FrameError(
        'NETKIT_FRAME_TRUNCATED',
        `stream ended inside a JSON value after ${held} bytes; the peer closed mid-message`,
        { size: held },
      );
    }
    this.#offset = 0; // a clean end leaves the decoder ready for a new stream
  }

  protected override discard(): void {
    this.#pending.clear();
  }

  /** #emit hands over the value ending at `end` (exclusive) in this chunk, joined to what is held. */
  #emit(chunk: Buffer, start: number, end: number, onFrame: FrameCallback): void {
    const held = this.#pending.length;
    onFrame(held === 0 ? chunk.subarray(start, end) : this.#pending.take(held, chunk.subarray(0, end)));
  }

  #syntax(message: string, i: number, limit?: number): JsonSyntaxError {
    const at = this.#offset + i;
    return new JsonSyntaxError(`${message} at offset ${at}`, at, limit);
  }

  #tooLarge(size: number): FrameError {
    return new FrameError(
      'NETKIT_FRAME_TOO_LARGE',
      `JSON value of at least ${size} bytes exceeds maxValueBytes (${this.maxValueBytes}); ${tooLargeAdvice('maxValueBytes')}`,
      { limit: this.maxValueBytes, size },
    );
  }
}

/** show quotes a byte the way Go's JSON errors do: `'x'`, or `'\x01'` for a control byte. */
function show(b: number): string {
  if (b >= 0x20 && b < 0x7f) return b === 0x27 ? `'\\''` : `'${String.fromCharCode(b)}'`;
  return `'\\x${b.toString(16).padStart(2, '0')}'`;
}

/**
 * JsonValueSplitter splits a byte stream into the texts of whole JSON
 * values: push() returns every value the chunk completed, end() the last
 * one (a top-level number waits for a delimiter or the end). It throws as
 * JsonValueDecoder does; values completed earlier in the same chunk are then
 * lost (use JsonValueDecoder directly to receive each one before the
 * failure). Not safe for concurrent use; one splitter per stream.
 */
export class JsonValueSplitter {
  readonly #decoder: JsonValueDecoder;
  #out: string[] = [];
  readonly #collect = (value: Buffer): void => {
    this.#out.push(value.toString('utf8'));
  };

  constructor(options: JsonStreamOptions = {}) {
    this.#decoder = new JsonValueDecoder(options);
  }

  /** buffered is the number of bytes held of the value not yet complete. */
  get buffered(): number {
    return this.#decoder.buffered;
  }

  /** push scans `chunk` and returns the texts of the values it completed, in order. */
  push(chunk: Uint8Array | string): string[] {
    this.#decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : asBuffer(chunk), this.#collect);
    return this.#take();
  }

  /** end marks the end of the stream: it returns a pending top-level number, or throws if inside a value. */
  end(): string[] {
    this.#decoder.end(this.#collect);
    return this.#take();
  }

  #take(): string[] {
    const out = this.#out;
    if (out.length > 0) this.#out = [];
    return out;
  }
}

/**
 * jsonValues yields the text of each JSON value in `source`, for `for await`
 * (a file stream, a socket, a fetch body). It throws like JsonValueSplitter,
 * after the values before the failure.
 */
export async function* jsonValues(
  source: AsyncIterable<Uint8Array | string>,
  options: JsonStreamOptions = {},
): AsyncGenerator<string, void, undefined> {
  const decoder = new JsonValueDecoder(options);
  const ready: string[] = [];
  const collect = (value: Buffer): void => {
    ready.push(value.toString('utf8'));
  };
  for await (const chunk of source) {
    let failure: unknown;
    try {
      decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : asBuffer(chunk), collect);
    } catch (err) {
      failure = err;
    }
    yield* ready.splice(0);
    if (failure !== undefined) throw failure;
  }
  decoder.end(collect);
  yield* ready.splice(0);
}
