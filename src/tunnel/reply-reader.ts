import type net from 'node:net';

/**
 * ReplyReader reads a proxy's reply off a socket in 'readable' mode, never
 * with a 'data' listener: when the reply is done, release() removes its
 * listener and puts back what followed the reply (unshift), and the socket
 * is left as a fresh one is, holding its bytes until its next reader comes.
 * A 'data' listener would have switched the socket to flowing mode, and
 * bytes a proxy sent right behind its reply (a server's banner) could be
 * emitted to nobody.
 */
export class ReplyReader {
  readonly #socket: net.Socket;
  #buffered: Buffer = Buffer.alloc(0);
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('readable', this.#onReadable);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onEnd);
  }

  /** buffered is how many bytes are read and not yet taken. */
  get buffered(): number {
    return this.#buffered.length;
  }

  /**
   * exactly resolves with the next `n` bytes; `closed` is called (and its
   * error thrown) when the stream ends first, with the bytes received.
   */
  async exactly(n: number, closed: (received: Buffer) => Error): Promise<Buffer> {
    while (this.#buffered.length < n) await this.#more(closed);
    const out = this.#buffered.subarray(0, n);
    this.#buffered = this.#buffered.subarray(n);
    return out;
  }

  /**
   * until resolves with the bytes up to and including the first match of
   * `end` (searched only where it can newly appear), failing through
   * `tooLong` once `limit` bytes hold no match: a proxy sending an endless
   * header must not make us buffer without bound.
   */
  async until(
    end: Buffer,
    limit: number,
    closed: (received: Buffer) => Error,
    tooLong: (received: Buffer) => Error,
  ): Promise<Buffer> {
    let from = 0;
    for (;;) {
      const at = this.#buffered.indexOf(end, from);
      if (at !== -1 && at + end.length <= limit) {
        const out = this.#buffered.subarray(0, at + end.length);
        this.#buffered = this.#buffered.subarray(at + end.length);
        return out;
      }
      if (this.#buffered.length >= limit) throw tooLong(this.#buffered.subarray(0, limit));
      from = Math.max(0, this.#buffered.length - end.length + 1);
      await this.#more(closed);
    }
  }

  /**
   * release stops reading and gives the socket back with whatever followed
   * the reply unshifted, so the next reader sees it first.
   */
  release(): void {
    const s = this.#socket;
    s.off('readable', this.#onReadable);
    s.off('end', this.#onEnd);
    s.off('error', this.#onError);
    s.off('close', this.#onEnd);
    if (this.#buffered.length > 0) s.unshift(this.#buffered);
    this.#buffered = Buffer.alloc(0);
  }

  #more(closed: (received: Buffer) => Error): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#ended) return Promise.reject(closed(this.#buffered));
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  readonly #onReadable = () => {
    let chunk: Buffer | null;
    // biome-ignore lint/suspicious/noAssignInExpressions: the stream API's own idiom
    while ((chunk = this.#socket.read() as Buffer | null) !== null) {
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    }
    this.#poke();
  };

  readonly #onEnd = () => {
    this.#ended = true;
    this.#poke();
  };

  readonly #onError = (err: Error) => {
    this.#failure ??= err;
    this.#poke();
  };

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
