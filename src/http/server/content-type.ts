import path from 'node:path';
import { contentType } from 'mime-types';

/**
 * contentTypeOf returns the Content-Type for a file name from its extension
 * (case-insensitive), from mime-db through `mime-types`: the types `send` and
 * `express.static` answer, with `charset=utf-8` on text so a browser never
 * guesses one. An unknown extension is `application/octet-stream`, which a
 * browser downloads rather than renders.
 */
export function contentTypeOf(name: string): string {
  const ext = path.extname(name);
  return (ext && contentType(ext)) || 'application/octet-stream';
}
