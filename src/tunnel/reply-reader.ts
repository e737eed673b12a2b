import type net from 'node:net';

/**
 * ReplyReader reads a proxy's reply off a socket in 'readable' mode, asking
 * for no byte past the reply's end: exact counts for SOCKS5's fixed-shape
 * replies, and for an HTTP head only as many bytes as cannot overrun the
 * blank line that ends it. Whatever the proxy sent behind its reply (a
 * server's banner, even its FIN) stays in the socket's own buffer, and once
 * release() removed the listener the socket is as a fresh one is: holding
 * its bytes, and its end, until its next reader comes. Reading ahead and
 * unshifting would not do: an 'end' read past would be emitted to nobody.
 */
export class ReplyReader {
  readonly #socket: net.Socket;
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('readable', this.#poke);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onEnd);
  }

  /**
   * exactly resolves with the next `n` bytes; `closed` is called (and its
   * error thrown) when the stream ends first, with the bytes received.
   */
  async exactly(n: number, closed: (received: Buffer) => Error): Promise<Buffer> {
    for (;;) {
      this.#check();
      const chunk = this.#socket.read(n) as Buffer | null;
      // At the end of the stream, read(n) hands over what is left even if it is less.
      if (chunk !== null && chunk.length === n) return chunk;
      if (chunk !== null || this.#ended) {
        this.#check();
        throw closed(chunk ?? Buffer.alloc(0));
      }
      await this.#more();
    }
  }

  /**
   * until resolves with the bytes up to and including the first `end`,
   * failing through `tooLong` once `limit` bytes hold none: a proxy sending
   * an endless header must not make us buffer without bound. It reads at
   * most `end.length - matched` bytes at a time (`matched` being how much
   * of `end` the bytes so far end with), so it never reads past `end`.
   */
  async until(
    end: Buffer,
    limit: number,
    closed: (received: Buffer) => Error,
    tooLong: (received: Buffer) => Error,
  ): Promise<Buffer> {
    const parts: Buffer[] = [];
    let size = 0;
    let tail = Buffer.alloc(0);
    for (;;) {
      const matched = partialMatch(tail, end);
      if (matched === end.length) return Buffer.concat(parts, size);
      if (size >= limit) throw tooLong(Buffer.concat(parts, size));
      this.#check();
      const want = Math.min(end.length - matched, limit - size);
      const chunk = this.#socket.read(want) as Buffer | null;
      if (chunk !== null) {
        parts.push(chunk);
        size += chunk.length;
        tail = Buffer.concat([tail, chunk]).subarray(-end.length);
        if (chunk.length === want || partialMatch(tail, end) === end.length) continue;
      }
      if (chunk !== null || this.#ended) {
        this.#check();
        throw closed(Buffer.concat(parts, size));
      }
      await this.#more();
    }
  }

  /** release stops reading and gives the socket back, the bytes after the reply unread. */
  release(): void {
    const s = this.#socket;
    s.off('readable', this.#poke);
    s.off('end', this.#onEnd);
    s.off('error', this.#onError);
    s.off('close', this.#onEnd);
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  #more(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  readonly #poke = () => {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  };

  readonly #onEnd = () => {
    this.#ended = true;
    this.#poke();
  };

  readonly #onError = (err: Error) => {
    this.#failure ??= err;
    this.#poke();
  };
}

/** partialMatch is the length of the longest prefix of `end` that `tail` ends with. */
function partialMatch(tail: Buffer, end: Buffer): number {
  for (let k = Math.min(end.length, tail.length); k > 0; k--) {
    if (tail.subarray(tail.length - k).equals(end.subarray(0, k))) return k;
  }
  return 0;
}
