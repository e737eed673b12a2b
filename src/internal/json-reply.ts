import type { ServerResponse } from 'node:http';

/**
 * sendJson answers with `body` as one line of JSON, its length known and
 * the type not to be sniffed: the Toxiproxy API, the live pages' server and
 * the relay page's API all answer this way. `headers` come first, so the
 * type and length are always these.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}
