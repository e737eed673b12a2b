/**
 * ChunkList holds the unterminated tail of a delimited stream as a list of
 * chunk views plus a running total. Concatenating on every push would cost
 * O(n²) for a long frame arriving in small pieces and would double memory;
 * a list costs one copy, done once when the frame completes.
 */
export class ChunkList {
  /** length is the total number of bytes held. */
  length = 0;
  private chunks: Buffer[] = [];

  /** append adds a (non-empty) view to the end. */
  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** lastByte returns the last byte held, or undefined when empty. */
  lastByte(): number | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c === undefined ? undefined : c[c.length - 1];
  }

  /** lastBytes copies the last `n` bytes held (n ≤ length) into `out` at 0. */
  lastBytes(n: number, out: Buffer): void {
    let need = n;
    for (let i = this.chunks.length - 1; i >= 0 && need > 0; i--) {
      const c = this.chunks[i]!;
      const take = Math.min(need, c.length);
      c.copy(out, need - take, c.length - take);
      need -= take;
    }
  }

  /**
   * take returns the first `n` bytes held followed by `tail`, in a single
   * allocation of exactly that size, and empties the list.
   */
  take(n: number, tail: Buffer | undefined): Buffer {
    const tailLen = tail === undefined ? 0 : tail.length;
    const only = this.chunks.length === 1 ? this.chunks[0]! : undefined;
    if (tailLen === 0 && only !== undefined && only.length === n) {
      // The whole frame is one held view: hand it over without copying.
      this.clear();
      return only;
    }
    const out = Buffer.allocUnsafe(n + tailLen);
    let at = 0;
    for (const c of this.chunks) {
      if (at >= n) break;
      const take = Math.min(n - at, c.length);
      c.copy(out, at, 0, take);
      at += take;
    }
    if (tail !== undefined) tail.copy(out, at);
    this.clear();
    return out;
  }

  /** clear drops every reference so the chunks can be collected. */
  clear(): void {
    this.chunks = [];
    this.length = 0;
  }
}

/** asBuffer views a Uint8Array as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
