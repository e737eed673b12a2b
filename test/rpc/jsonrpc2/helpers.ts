import http from 'node:http';
import type { TestContext } from 'node:test';
import { JsonValueSplitter } from '../../../src/rpc/json-stream.js';
import {
  type JsonRpc2HttpOptions,
  type JsonRpc2HttpServer,
  type JsonRpc2TcpOptions,
  type JsonRpc2TcpServer,
  serveJsonRpc2Http,
  serveJsonRpc2Tcp,
} from '../../../src/rpc/jsonrpc2/index.js';
import { Registry } from '../../../src/rpc/registry.js';
import { dial } from '../../../src/tcp/index.js';
import { readAll } from '../../helpers/net.js';

/** arithRegistry is the brief's test registry: Arith.Multiply and Arith.Divide, as in Go's net/rpc docs. */
export function arithRegistry(): Registry {
  return new Registry().register('Arith', {
    Multiply: (args) => {
      const { A, B } = args as { A: number; B: number };
      return A * B;
    },
    Divide: (args) => {
      const { A, B } = args as { A: number; B: number };
      if (B === 0) throw new Error('divide by zero');
      return { Quo: Math.trunc(A / B), Rem: A % B };
    },
  });
}

/** startHttp serves `registry` over HTTP on 127.0.0.1:0 and closes it after the test. */
export async function startHttp(
  t: TestContext,
  registry: Registry,
  options: JsonRpc2HttpOptions = {},
): Promise<JsonRpc2HttpServer> {
  const server = await serveJsonRpc2Http('127.0.0.1:0', registry, { shutdownTimeout: 200, ...options });
  t.after(() => server.close());
  return server;
}

/** startTcp serves `registry` over TCP on 127.0.0.1:0 and shuts it down after the test. */
export async function startTcp(
  t: TestContext,
  registry: Registry,
  options: JsonRpc2TcpOptions = {},
): Promise<JsonRpc2TcpServer> {
  const server = await serveJsonRpc2Tcp('127.0.0.1:0', registry, { shutdownTimeout: 200, ...options });
  t.after(() => server.close());
  return server;
}

/** HttpReply is a raw HTTP answer. */
export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** post sends `body` on a fresh connection (no keep-alive, so servers close promptly). */
export function post(
  url: string,
  body: string | Buffer,
  options: { method?: string; headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
    if (!options.chunked) headers['Content-Length'] = String(Buffer.byteLength(body));
    const req = http.request(url, { method: options.method ?? 'POST', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * exchangeTcp writes `input` on a new connection, half-closes, and returns
 * every JSON value the server sent before closing, parsed.
 */
export async function exchangeTcp(address: string, input: string | Buffer): Promise<unknown[]> {
  const conn = await dial(address);
  try {
    await conn.write(input);
    await conn.closeWrite();
    const bytes = await readAll(conn);
    const splitter = new JsonValueSplitter();
    return [...splitter.push(bytes), ...splitter.end()].map((v) => JSON.parse(v));
  } finally {
    conn.destroy();
  }
}

/** deferred is a promise with its settle functions outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
