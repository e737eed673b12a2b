import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { BodyTooLargeError, HttpProtocolError } from './errors.js';

/** BodyHooks tell fetch how a response body stream ends. */
export interface BodyHooks {
  /** limit is maxBodyBytes, counted after decoding: what a zip bomb would inflate is what is bounded. */
  limit: number;
  /** url names the response in BodyTooLargeError. */
  url: string;
  /** onEnd runs when the body has been read to its end. */
  onEnd(): void;
  /** onFail runs when reading fails. */
  onFail(): void;
  /** onCancel runs when the reader cancels the stream (or a body mixin stops early). */
  onCancel(reason: unknown): void;
}

/**
 * InflateEither decodes `deflate` as browsers and undici do: the zlib format
 * RFC 9110 names or, as some servers send, raw DEFLATE, told apart by the
 * first byte (a zlib header's low nibble is 8, its compression method).
 * Backpressure is kept: the inner inflater pauses while this stream's reader
 * lags, so a small input cannot inflate past what is read.
 */
class InflateEither extends Transform {
  #inner: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#inner === undefined) {
      if (chunk.length === 0) {
        callback();
        return;
      }
      const inner = (chunk[0]! & 0x0f) === 0x08 ? zlib.createInflate() : zlib.createInflateRaw();
      inner.on('data', (out: Buffer) => {
        if (!this.push(out)) inner.pause();
      });
      inner.on('error', (err) => this.destroy(err));
      this.#inner = inner;
    }
    this.#inner.write(chunk, () => callback());
  }

  override _read(size: number): void {
    this.#inner?.resume();
    super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    const inner = this.#inner;
    if (inner === undefined) {
      callback();
      return;
    }
    inner.once('end', () => callback());
    inner.end();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner?.destroy();
    callback(err);
  }
}

/** Decoders fetch applies for Content-Encoding (https://fetch.spec.whatwg.org/#http-network-fetch, step 16). */
const DECODERS: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => new InflateEither(),
  br: () => zlib.createBrotliDecompress(),
};

/**
 * MAX_CODINGS caps the codings decoded in a row. Each is a zlib stream with
 * its own state and window, so a 16 KiB header of `gzip,gzip,…` made one
 * response cost some 50 MB and a third of a second; real servers apply one,
 * rarely two. undici and curl stop at 5 too.
 */
const MAX_CODINGS = 5;

/**
 * decodeBody undoes the response's Content-Encoding as fetch does: codings
 * in reverse order of application; an unknown coding leaves the body as
 * sent. A body that does not decode fails with HttpProtocolError; more than
 * MAX_CODINGS codings throw it at once.
 */
export function decodeBody(
  source: AsyncIterable<Buffer>,
  contentEncoding: string | null,
  address: string,
): AsyncIterable<Buffer> {
  if (contentEncoding === null) return source;
  const codings = contentEncoding
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0 || codings.some((c) => DECODERS[c] === undefined)) return source;
  if (codings.length > MAX_CODINGS) {
    throw new HttpProtocolError(
      `http ${address}: the body has ${codings.length} content codings; at most ${MAX_CODINGS} are decoded`,
      address,
      Buffer.alloc(0),
    );
  }
  const decoders = codings.reverse().map((c) => DECODERS[c]!());
  const last = decoders[decoders.length - 1]!;
  pipeline([Readable.from(source, { objectMode: false }), ...decoders], () => {
    // Errors reach the reader through `last`; pipeline's callback has nothing to add.
  });
  return (async function* () {
    try {
      for await (const chunk of last as AsyncIterable<Buffer>) yield chunk;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && code.startsWith('Z_')) {
        throw new HttpProtocolError(
          `http ${address}: the body does not decode as ${contentEncoding} (${(err as Error).message})`,
          address,
          Buffer.alloc(0),
          { cause: err },
        );
      }
      throw err;
    }
  })();
}

/**
 * bodyStream is the ReadableStream a Response carries: it pulls from the
 * socket only as the reader asks (backpressure reaches the TCP window), and
 * errors with BodyTooLargeError past `limit`, or with the exchange's own
 * failure.
 */
export function bodyStream(source: AsyncIterable<Buffer>, hooks: BodyHooks): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let size = 0;
  let done = false;
  const stop = (reason: unknown) => {
    if (done) return;
    done = true;
    hooks.onCancel(reason);
    it.return?.().catch(() => {
      // The connection is already gone; its error, if any, was the reason for stopping.
    });
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: IteratorResult<Buffer>;
      try {
        next = await it.next();
      } catch (err) {
        if (!done) {
          done = true;
          hooks.onFail();
        }
        throw err;
      }
      if (done) return;
      if (next.done) {
        done = true;
        hooks.onEnd();
        controller.close();
        return;
      }
      const chunk = next.value;
      size += chunk.length;
      if (size > hooks.limit) {
        const err = new BodyTooLargeError(hooks.url, hooks.limit);
        stop(err);
        throw err;
      }
      // A plain Uint8Array view, as fetch hands out, of the bytes Node read.
      controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    },
    cancel(reason) {
      stop(reason);
    },
  });
}
