/**
 * A streaming gob decoder, reading what Go 1.19's encoding/gob writes.
 *
 * Written by hand: no usable npm package decodes gob streams (type
 * definitions, interfaces, Go's message cuts) with limits fit for network
 * input. No schema is needed: type definitions on the stream say
 * everything, and values come out as plain JavaScript (see docs/gob.md).
 *
 * A stream is messages, each `uint length, int type id, payload`. A
 * negative id defines type -id; a positive id starts a value of that type.
 * push() buffers bytes however they were chunked; next() returns each
 * complete value. Limits are checked before anything is allocated, and
 * after any error the decoder stays failed: it cannot know where the next
 * message starts.
 */
import { InvalidArgumentError } from '../../errors.js';
import { malformed, overLimit } from './errors.js';
import { K_STRUCT } from './node.js';
import { type DecoderOptions, decoderOptions } from './options.js';
import { TypeTable } from './type-table.js';
import type { GobType } from './types.js';
import { NEED_MORE, ValueReader } from './values-in.js';
import { spanValue } from './values-spanning.js';

/** Owned buffers larger than this are released once empty rather than kept for reuse. */
const KEEP_BUFFER_BYTES = 1 << 20;

/** Decoded is one top-level value with the type it was sent as. */
export interface Decoded {
  /** value is the decoded value (see docs/gob.md for the mapping). */
  value: unknown;
  /** typeId is the value's type id on this stream. */
  typeId: number;
  /** type is the value's type as the peer defined it (struct names, field names and types). */
  type: GobType;
}

/**
 * Decoder turns a gob byte stream into values. Call push() with each chunk,
 * then next() until it returns undefined. Not safe for two streams.
 */
export class Decoder {
  /** maxMessageBytes is the largest message (and the most bytes one value may span). */
  readonly maxMessageBytes: number;
  /** maxDepth bounds the nesting of values and type definitions. */
  readonly maxDepth: number;
  /** maxElements bounds the element count of one slice, array or map. */
  readonly maxElements: number;
  /** maxTypes bounds the types one stream may define. */
  readonly maxTypes: number;
  /** maxFields bounds the fields of one struct type. */
  readonly maxFields: number;
  private readonly r: ValueReader;
  /** buf[start, avail) are the bytes received and not yet consumed. */
  private start = 0;
  private avail = 0;
  /** owned: buf is ours to write into (else it is a caller's chunk). */
  private owned = false;
  /** next() does nothing until this many bytes past start are buffered. */
  private need = 0;
  /** needAt is set with NEED_MORE: the buffer index the missing message ends at (at least). */
  private needAt = 0;
  private hdr = 0;
  /** spanned counts the bytes of the messages the current value spans. */
  private spanned = 0;
  /** pending is a cut value being decoded by the resumable path, with its type id. */
  private pending: Generator<void, unknown, void> | null = null;
  private pendingId = 0;
  private pendingType: GobType | null = null;
  private failure: unknown = null;

  constructor(options?: DecoderOptions) {
    const o = decoderOptions(options);
    this.maxMessageBytes = o.maxMessageBytes;
    this.maxDepth = o.maxDepth;
    this.maxElements = o.maxElements;
    this.maxTypes = o.maxTypes;
    this.maxFields = o.maxFields;
    const types = new TypeTable(o.maxTypes, o.maxDepth, o.maxFields);
    this.r = new ValueReader(types, o.maxDepth, o.maxElements, () => this.advance());
  }

  /** buffered is the number of bytes received but not yet returned as values. */
  get buffered(): number {
    return this.avail - this.start;
  }

  /** push adds received bytes. It may throw the decoder's failure, or NETKIT_GOB_LIMIT for an oversize message. */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    if (!(chunk instanceof Uint8Array))
      throw new InvalidArgumentError('chunk', 'must be a Buffer or Uint8Array');
    const n = chunk.length;
    if (n === 0) return;
    const r = this.r;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, n);
    if (this.start === this.avail && this.pending === null) {
      // Nothing held: read straight from the caller's chunk.
      r.base += this.avail;
      r.buf = bytes;
      this.start = 0;
      this.avail = n;
      this.owned = false;
    } else if (this.owned && r.buf.length - this.avail >= n) {
      bytes.copy(r.buf, this.avail);
      this.avail += n;
    } else {
      const held = this.avail - this.start;
      const size = Math.max(held + n, 2 * held, 256);
      const next = this.owned && r.buf.length >= size ? r.buf : Buffer.allocUnsafe(size);
      r.buf.copy(next, 0, this.start, this.avail);
      bytes.copy(next, held);
      // Indices into the buffer move down by `start`; offsets stay the same.
      const shift = this.start;
      r.base += shift;
      r.pos -= shift;
      r.end -= shift;
      this.needAt -= shift;
      r.buf = next;
      this.start = 0;
      this.avail = held + n;
      this.owned = true;
    }
    // Judge the first message from its length prefix before waiting for its body.
    if (this.pending === null && this.need <= this.avail - this.start) {
      try {
        this.header(this.start);
      } catch (err) {
        this.fail(err);
        throw err;
      }
    }
  }

  /** next returns the next complete value, or undefined until more bytes are pushed. */
  next(): Decoded | undefined {
    if (this.failure !== null) throw this.failure;
    try {
      return this.step();
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  private step(): Decoded | undefined {
    const r = this.r;
    if (this.pending !== null) return this.resume();
    for (;;) {
      if (this.avail - this.start < this.need) return undefined;
      this.need = 0;
      const at = this.start;
      const len = this.header(at);
      if (len < 0) {
        this.need = this.avail - at + 1;
        return undefined;
      }
      const body = at + this.hdr;
      if (body + len > this.avail) {
        this.need = body + len - at;
        return undefined;
      }
      r.pos = body;
      r.end = body + len;
      this.spanned = this.hdr + len;
      const id = r.readTypeId();
      if (id < 0) {
        r.defineType(-id);
        if (r.pos !== r.end) throw r.bad('extra data after a type definition');
        this.done();
        continue;
      }
      const mark = r.types.mark();
      const node = r.types.node(id, r.base + r.pos);
      try {
        let value: unknown;
        if (node.k === K_STRUCT) value = r.struct(node, 1);
        else {
          if (r.readUint() !== 0) throw r.bad('non-zero field delta for a top-level non-struct value');
          value = r.value(node, 1);
        }
        return this.finish(value, id, node.type);
      } catch (err) {
        if (err !== NEED_MORE) throw err;
      }
      // The value continues in a message not received yet: start it again, resumably.
      r.types.rollback(mark);
      r.pos = body;
      r.end = body + len;
      this.spanned = this.hdr + len;
      r.readTypeId();
      const again = r.types.node(id, r.base + r.pos);
      if (again.k !== K_STRUCT) r.readUint();
      this.pending = spanValue(r, again, 1);
      this.pendingId = id;
      this.pendingType = again.type;
      return this.resume();
    }
  }

  private resume(): Decoded | undefined {
    if (this.avail < this.needAt) return undefined;
    const it = this.pending!.next();
    if (!it.done) return undefined;
    this.pending = null;
    return this.finish(it.value, this.pendingId, this.pendingType!);
  }

  private finish(value: unknown, typeId: number, type: GobType): Decoded {
    if (this.r.pos !== this.r.end) throw this.r.bad('trailing bytes after the value');
    this.done();
    return { value, typeId, type };
  }

  /** done consumes the current message (the last one a value spanned) and keeps its definitions. */
  private done(): void {
    const r = this.r;
    r.types.commit();
    this.start = r.end;
    if (this.start === this.avail) {
      r.base += this.avail;
      this.start = 0;
      this.avail = 0;
      r.pos = 0;
      r.end = 0;
      if (!this.owned || r.buf.length > KEEP_BUFFER_BYTES) {
        r.buf = EMPTY;
        this.owned = false;
      }
    }
  }

  /** advance is the ValueReader's hook: move to the next message of a value Go cut in two. */
  private advance(): boolean {
    const r = this.r;
    const at = r.end;
    const len = this.header(at);
    if (len < 0) {
      this.needAt = this.avail + 1;
      return false;
    }
    const body = at + this.hdr;
    if (body + len > this.avail) {
      this.needAt = body + len;
      return false;
    }
    this.spanned += this.hdr + len;
    if (this.spanned > this.maxMessageBytes) {
      throw overLimit(
        `a value spanning ${this.spanned} bytes of messages`,
        'maxMessageBytes',
        this.maxMessageBytes,
      );
    }
    r.pos = body;
    r.end = body + len;
    return true;
  }

  /** header parses the length prefix at buf[at]: the body length (this.hdr: prefix length), or -1 if incomplete. */
  private header(at: number): number {
    const buf = this.r.buf;
    if (at >= this.avail) return -1;
    const b = buf[at]!;
    let len = b;
    this.hdr = 1;
    if (b >= 0x80) {
      const n = 256 - b;
      if (n > 8) throw malformed(`message length of ${n} bytes (a uint has at most 8)`, this.r.base + at);
      if (at + 1 + n > this.avail) return -1;
      len = 0;
      for (let i = 1; i <= n; i++) len = len * 256 + buf[at + i]!;
      this.hdr = 1 + n;
    }
    if (len > this.maxMessageBytes)
      throw overLimit(`message of ${len} bytes`, 'maxMessageBytes', this.maxMessageBytes);
    if (len === 0) throw malformed('empty message', this.r.base + at);
    return len;
  }

  private fail(err: unknown): void {
    this.failure = err;
    this.pending = null;
    this.r.buf = EMPTY;
    this.start = 0;
    this.avail = 0;
  }
}

const EMPTY = Buffer.alloc(0);
