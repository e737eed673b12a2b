/**
 * ByteWriter: a growable output buffer with gob's integer, float and string
 * encodings, reused across values so encoding a small struct allocates
 * nothing but the Buffer finally returned.
 *
 * gob's uint: below 128 one byte; otherwise one byte holding the negated
 * byte count, then the big-endian bytes without leading zeros (256 ->
 * fe 01 00). int: zig-zag into a uint (n >= 0 -> n<<1, n < 0 ->
 * (^n<<1)|1). float64: its IEEE bits byte-reversed, then sent as a uint, so
 * small integers and common exponents take few bytes (17.0 -> fe 31 40).
 */

const TWO32 = 2 ** 32;
const TWO31 = 2 ** 31;
/**
 * SMALL_COPY: runs of bytes up to this long are copied in a loop. Buffer's
 * copy is a call into C++ whose fixed cost is larger than copying the few
 * dozen bytes of a typical RPC header or argument struct by hand.
 */
const SMALL_COPY = 64;

/** The float scratch: an 8-byte area viewed both as bytes and through a DataView. */
const F64 = new Uint8Array(8);
const F64_VIEW = new DataView(F64.buffer);

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** ensure makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /** uint writes a non-negative safe integer. */
  uint(x: number): void {
    if (x < 0x80) {
      if (this.pos >= this.buf.length) this.grow(1);
      this.buf[this.pos++] = x;
    } else if (x < TWO32) {
      this.uint32(x);
    } else {
      const hi = Math.floor(x / TWO32);
      this.uintHiLo(hi, x - hi * TWO32);
    }
  }

  /** uint32 writes 128 <= x < 2^32 as a multi-byte uint. */
  private uint32(x: number): void {
    const n = 4 - (Math.clz32(x) >> 3);
    this.ensure(n + 1);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 256 - n;
    for (let shift = (n - 1) * 8; shift >= 0; shift -= 8) buf[p++] = (x >>> shift) & 0xff;
    this.pos = p;
  }

  /** uintHiLo writes the uint hi * 2^32 + lo (both parts below 2^32). */
  uintHiLo(hi: number, lo: number): void {
    if (hi === 0) {
      this.uint(lo);
      return;
    }
    const n = 8 - (Math.clz32(hi) >> 3);
    this.ensure(n + 1);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 256 - n;
    for (let shift = (n - 5) * 8; shift >= 0; shift -= 8) buf[p++] = (hi >>> shift) & 0xff;
    buf[p++] = lo >>> 24;
    buf[p++] = (lo >>> 16) & 0xff;
    buf[p++] = (lo >>> 8) & 0xff;
    buf[p++] = lo & 0xff;
    this.pos = p;
  }

  /** int writes a safe integer, zig-zag encoded. */
  int(n: number): void {
    if (n >= 0) {
      if (n < 0x40) this.byte(n << 1);
      else if (n < TWO31) this.uint(n * 2);
      else {
        // 2n can exceed 2^53; split so every step stays exact.
        const hi = Math.floor(n / TWO31);
        this.uintHiLo(hi, (n - hi * TWO31) * 2);
      }
    } else {
      const m = -n - 1; // ^n, exact for safe integers
      if (m < 0x40) this.byte((m << 1) | 1);
      else if (m < TWO31) this.uint(m * 2 + 1);
      else {
        const hi = Math.floor(m / TWO31);
        this.uintHiLo(hi, (m - hi * TWO31) * 2 + 1);
      }
    }
  }

  /** bigUint writes 0 <= x < 2^64. */
  bigUint(x: bigint): void {
    this.uintHiLo(Number(x >> 32n), Number(x & 0xffffffffn));
  }

  /** bigInt writes -2^63 <= x < 2^63, zig-zag encoded. */
  bigInt(x: bigint): void {
    this.bigUint(x >= 0n ? x << 1n : ((-x - 1n) << 1n) | 1n);
  }

  /** float writes a float64 as Go does: bits byte-reversed, then as a uint. */
  float(f: number): void {
    // Little-endian bytes of the IEEE bits are the big-endian bytes of the
    // byte-reversed uint Go sends; skip its leading zero bytes.
    F64_VIEW.setFloat64(0, f, true);
    let i = 0;
    while (i < 8 && F64[i] === 0) i++;
    if (i === 8) {
      this.byte(0);
      return;
    }
    if (i === 7 && F64[7]! < 0x80) {
      this.byte(F64[7]!);
      return;
    }
    this.ensure(9 - i);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 256 - (8 - i);
    for (; i < 8; i++) buf[p++] = F64[i]!;
    this.pos = p;
  }

  /** bytes writes a uint length and the bytes. */
  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.raw(b);
  }

  /** raw appends bytes as they are. */
  raw(b: Uint8Array, start = 0, end = b.length): void {
    const n = end - start;
    this.ensure(n);
    if (n <= SMALL_COPY) {
      const buf = this.buf;
      for (let i = start, p = this.pos; i < end; i++, p++) buf[p] = b[i]!;
    } else if (Buffer.isBuffer(b)) b.copy(this.buf, this.pos, start, end);
    else this.buf.set(start === 0 && end === b.length ? b : b.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** string writes a uint length and the UTF-8 bytes. */
  string(s: string): void {
    const len = s.length;
    if (len < 43) {
      // At most 3 UTF-8 bytes per UTF-16 unit, so the length fits one byte:
      // write the text first and fill in its length after.
      this.ensure(1 + len * 3);
      const start = this.pos;
      let p = start + 1;
      const buf = this.buf;
      let ascii = true;
      for (let i = 0; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        buf[p++] = c;
      }
      if (!ascii) p = start + 1 + buf.write(s, start + 1, 'utf8');
      buf[start] = p - start - 1;
      this.pos = p;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.uint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }

  /** take returns a copy of the written bytes [start, pos). */
  take(start = 0): Buffer {
    const n = this.pos - start;
    const out = Buffer.allocUnsafe(n);
    if (n <= SMALL_COPY) {
      const buf = this.buf;
      for (let i = 0; i < n; i++) out[i] = buf[start + i]!;
    } else this.buf.copy(out, 0, start, this.pos);
    return out;
  }

  /** takeMessage returns the written bytes as one gob message (length prefix, then the bytes), and empties the writer. */
  takeMessage(): Buffer {
    const len = this.pos;
    let prefix = 1;
    if (len >= 0x80) for (let x = len; x >= 1; x /= 256) prefix++;
    const out = Buffer.allocUnsafe(prefix + len);
    if (prefix === 1) out[0] = len;
    else {
      out[0] = 256 - (prefix - 1);
      for (let i = prefix - 1, x = len; i >= 1; i--, x = Math.floor(x / 256)) out[i] = x % 256;
    }
    if (len <= SMALL_COPY) {
      const buf = this.buf;
      for (let i = 0; i < len; i++) out[prefix + i] = buf[i]!;
    } else this.buf.copy(out, prefix, 0, len);
    this.pos = 0;
    return out;
  }

  /** shrink drops a buffer grown past `max` bytes, so one huge value does not pin memory forever. */
  shrink(max: number): void {
    if (this.buf.length > max) this.buf = Buffer.allocUnsafe(max);
    this.pos = 0;
  }
}
