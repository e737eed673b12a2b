import type { IncomingMessage } from 'node:http';

/**
 * readBody collects a request body of at most `max` bytes and calls
 * `onBody` with it. A larger body — declared by Content-Length up front, or
 * found while reading — calls `onTooLarge` once instead, before more than
 * `max` bytes are held; the rest is read and discarded so the 413 can be
 * written. A client that aborts gets neither.
 */
export function readBody(
  req: IncomingMessage,
  max: number,
  onTooLarge: () => void,
  onBody: (body: Buffer) => void,
): void {
  const tooLarge = () => {
    req.removeAllListeners('data');
    req.resume();
    onTooLarge();
  };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > max) {
      over = true;
      tooLarge();
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', () => {}); // aborted by the client: nothing to answer
  req.on('end', () => {
    if (!over) onBody(Buffer.concat(chunks, size));
  });
}

/** Pushable is the part of IncomingMessage that node:http's parser feeds the body through. */
type Pushable = { push(chunk: Buffer | null, encoding?: BufferEncoding): boolean };

/**
 * capBody enforces `max` on a body that someone else's handler reads, in
 * whatever way it reads it (a stream, a body parser, not at all). node:http's
 * parser hands every body chunk to `req.push()`, so counting there sees the
 * bytes before any reader does, without putting the stream into flowing mode
 * under a handler that has not attached yet. Past `max`, `onOver` is called
 * once and the rest of the body is discarded as it arrives (the socket keeps
 * being read, so a 413 can still be written and read by the client);
 * the reader never gets a truncated body, only no more bytes.
 */
export function capBody(req: IncomingMessage, max: number, onOver: () => void): void {
  const target = req as unknown as Pushable;
  const push = target.push;
  let size = 0;
  let over = false;
  target.push = function capped(this: Pushable, chunk, encoding) {
    if (chunk !== null) {
      if (over) return true;
      size += chunk.length;
      if (size > max) {
        over = true;
        onOver();
        return true;
      }
    } else if (over) {
      return false; // the body never completes for its reader
    }
    return push.call(this, chunk, encoding);
  };
}
