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
