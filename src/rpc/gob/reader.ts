/**
 * ByteReader reads gob's primitive encodings (see writer.ts for them) from
 * the message at buf[pos, end). Every read is checked against the message
 * end, so a length or count can never send a read past the bytes received.
 */
import { type GobError, malformed } from './errors.js';

const TWO32 = 2 ** 32;
/**
 * RECALL_BYTES: a string up to this long is compared with the last one read
 * and, when equal, returned without decoding again. net/rpc repeats the
 * method name in every header, and turning bytes into a string is a call
 * into C++ that costs more than comparing a few dozen bytes.
 */
const RECALL_BYTES = 64;
const F64 = new Uint8Array(8);
const F64_VIEW = new DataView(F64.buffer);

export class ByteReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** end is the end of the current message. */
  end = 0;
  /** base is the stream offset of buf[0], for error offsets. */
  base = 0;
  /** hi and lo are readUintHiLo's result: the high and low 32 bits. */
  private hi = 0;
  private lo = 0;
  /** lastBytes[0, lastLength) are the bytes of the last short string read, lastString its value. */
  private readonly lastBytes = new Uint8Array(RECALL_BYTES);
  private lastLength = -1;
  private lastString = '';

  bad(what: string): GobError {
    return malformed(what, this.base + this.pos);
  }

  private endOfMessage(): GobError {
    return this.bad('unexpected end of message');
  }

  /** readUint reads a uint as a number; values of 2^53 and more are approximate (and so over every limit). */
  readUint(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= this.end) throw this.endOfMessage();
    const b = buf[p++]!;
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    const n = 256 - b;
    if (n > 8) throw this.bad(`uint of ${n} bytes (at most 8)`);
    if (p + n > this.end) throw this.endOfMessage();
    let x = 0;
    for (const stop = p + n; p < stop; p++) x = x * 256 + buf[p]!;
    this.pos = p;
    return x;
  }

  /** readUintHiLo reads a uint into this.hi and this.lo (32 bits each) for exact 64-bit values. */
  private readUintHiLo(): void {
    const buf = this.buf;
    let p = this.pos;
    if (p >= this.end) throw this.endOfMessage();
    const b = buf[p++]!;
    if (b < 0x80) {
      this.pos = p;
      this.hi = 0;
      this.lo = b;
      return;
    }
    const n = 256 - b;
    if (n > 8) throw this.bad(`uint of ${n} bytes (at most 8)`);
    if (p + n > this.end) throw this.endOfMessage();
    let hi = 0;
    let lo = 0;
    for (let i = n; i > 4; i--) hi = hi * 256 + buf[p++]!;
    for (let i = Math.min(n, 4); i > 0; i--) lo = lo * 256 + buf[p++]!;
    this.pos = p;
    this.hi = hi;
    this.lo = lo;
  }

  /** readUintValue reads a uint64 value: a number when exact, else a bigint. */
  readUintValue(): number | bigint {
    this.readUintHiLo();
    if (this.hi < 0x200000) return this.hi * TWO32 + this.lo;
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** readIntValue reads a zig-zag int64: a number when a safe integer, else a bigint. */
  readIntValue(): number | bigint {
    this.readUintHiLo();
    const hi = this.hi;
    const lo = this.lo;
    if (hi < 0x200000) {
      const x = hi * TWO32 + lo;
      const half = (x - (lo & 1)) / 2;
      return lo & 1 ? -half - 1 : half;
    }
    const x = (BigInt(hi) << 32n) | BigInt(lo);
    const v = x & 1n ? ~(x >> 1n) : x >> 1n;
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  }

  /** readTypeId reads a signed type id; Go's ids are int32. */
  readTypeId(): number {
    const x = this.readUint();
    const v = x % 2 === 1 ? -(x + 1) / 2 : x / 2;
    if (v < -0x80000000 || v > 0x7fffffff) throw this.bad(`type id ${v} out of range`);
    return v;
  }

  readFloat(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= this.end) throw this.endOfMessage();
    const b = buf[p++]!;
    // The uint's big-endian bytes, right-aligned, are the float's little-endian bytes.
    if (b < 0x80) {
      F64.fill(0, 0, 7);
      F64[7] = b;
    } else {
      const n = 256 - b;
      if (n > 8) throw this.bad(`uint of ${n} bytes (at most 8)`);
      if (p + n > this.end) throw this.endOfMessage();
      F64.fill(0, 0, 8 - n);
      for (let i = 8 - n; i < 8; i++) F64[i] = buf[p++]!;
    }
    this.pos = p;
    return F64_VIEW.getFloat64(0, true);
  }

  /** readLength reads a byte count that must fit in the rest of the message. */
  readLength(): number {
    const at = this.pos;
    const n = this.readUint();
    if (n > this.end - this.pos) {
      throw malformed(
        `length ${n} beyond the ${this.end - this.pos} bytes left in the message`,
        this.base + at,
      );
    }
    return n;
  }

  readString(): string {
    const n = this.readLength();
    const p = this.pos;
    this.pos = p + n;
    if (n === 0) return '';
    if (n > RECALL_BYTES) return this.buf.toString('utf8', p, p + n);
    const buf = this.buf;
    const last = this.lastBytes;
    let i = 0;
    if (n === this.lastLength) {
      while (i < n && buf[p + i] === last[i]) i++;
      if (i === n) return this.lastString;
    }
    // Only the bytes from the first difference on need copying.
    for (; i < n; i++) last[i] = buf[p + i]!;
    this.lastLength = n;
    this.lastString = buf.toString('utf8', p, p + n);
    return this.lastString;
  }

  readBytes(): Buffer {
    const n = this.readLength();
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
