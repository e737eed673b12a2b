import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AddrError, ConnectionError, NetkitError } from '../../errors.js';
import { TlsAgent } from '../../tls/agent.js';
import type { ResolvedTlsClient } from '../../tls/client.js';
import { isTlsFailure, tlsError } from '../../tls/failure.js';
import { BodyTooLargeError, protocolError } from './errors.js';
import type { HttpTiming, RequestBody } from './types.js';

/** Hop is one request/response exchange on a fresh connection. */
export interface Hop {
  url: URL;
  method: string;
  headers: [string, string][];
  body: RequestBody | undefined;
  maxBodyBytes: number;
  /** tls is how an https: hop speaks TLS. */
  tls: ResolvedTlsClient;
  /** socketPath is a Unix socket to connect to instead of the URL's host and port. */
  socketPath: string | undefined;
  /** Aborting it destroys the exchange, which rejects with `signal.reason`. */
  signal: AbortSignal;
}

/** HopResult is one buffered response. */
export interface HopResult {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: [string, string][];
  body: Buffer;
  timing: HttpTiming;
}

const LOOKUP_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

/** hostLabel is host:port (or unix:/path) for error messages and `address` fields. */
function hostLabel(url: URL, socketPath: string | undefined): string {
  if (socketPath !== undefined) return `unix:${socketPath}`;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

/** mapError turns a Node socket/HTTP error into a NetkitError. */
function mapError(err: unknown, hop: Hop, connected: boolean): Error {
  const url = hop.url;
  const address = hostLabel(url, hop.socketPath);
  // The TLS agent's own failures (NETKIT_TLS_FAILED, its timeout) are already in words.
  if (err instanceof NetkitError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const detail = err instanceof Error ? err.message : String(err);
  if (!connected && LOOKUP_CODES.has(code)) {
    return new AddrError('NETKIT_LOOKUP_FAILED', `lookup ${url.hostname}: ${detail}`, url.hostname, {
      cause: err,
    });
  }
  if (!connected) {
    return new ConnectionError('NETKIT_DIAL_FAILED', `dial ${address}: ${detail}`, address, { cause: err });
  }
  if (url.protocol === 'https:' && isTlsFailure(err)) {
    // After the handshake too: a TLS 1.3 server refuses a client certificate once the request is on its way.
    return tlsError(err, address, 'http');
  }
  const notHttp = protocolError(err, `http ${address}`, address, 'https');
  if (notHttp) return notHttp;
  if (code === 'ECONNRESET') {
    // Node's "socket hang up": closed before any answer, as a TLS server does on plain-text bytes.
    const said =
      detail === 'socket hang up'
        ? `the peer closed the connection without answering${url.protocol === 'http:' ? ' (if it is a TLS port, use https://)' : ''}`
        : detail;
    return new ConnectionError('NETKIT_CONNECTION_RESET', `http ${address}: ${said}`, address, {
      cause: err,
    });
  }
  return new ConnectionError('NETKIT_CONNECTION_CLOSED', `http ${address}: ${detail}`, address, {
    cause: err,
  });
}

/** groupHeaders turns pairs into the object Node expects, keeping repeated names as arrays. */
function groupHeaders(pairs: [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const names = new Map<string, string>();
  for (const [name, value] of pairs) {
    const key = names.get(name.toLowerCase()) ?? name;
    names.set(name.toLowerCase(), key);
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** pairRawHeaders turns Node's flat rawHeaders into [name, value] pairs. */
function pairRawHeaders(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** pump writes an async iterable body with backpressure, then ends the request. */
async function pump(req: http.ClientRequest, body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of body) {
    if (req.destroyed) return;
    if (!req.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      });
    }
  }
  if (!req.destroyed) req.end();
}

/** exchange performs one HTTP request on a new connection and buffers the response. */
export function exchange(hop: Hop): Promise<HopResult> {
  return new Promise<HopResult>((resolve, reject) => {
    const { url, signal } = hop;
    const t0 = performance.now();
    let tLookup: number | undefined;
    let tConnect: number | undefined;
    let tSecure: number | undefined;
    let tHeaders: number | undefined;
    let settled = false;

    const finish = (err: Error | undefined, result?: HopResult) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else {
        resolve(result!);
      }
    };
    const onAbort = () => finish(signal.reason as Error);
    const fail = (err: unknown) => finish(mapError(err, hop, tConnect !== undefined));
    const watch = (socket: Socket) => {
      socket.once('lookup', () => {
        tLookup = performance.now();
      });
      socket.once('connect', () => {
        tConnect = performance.now();
      });
      socket.once('secureConnect', () => {
        tSecure = performance.now();
      });
    };

    // https: goes through a TlsAgent, which hands node:https a socket only once it is secure and
    // pin-checked: node:https writes the request the moment it has one. A fresh agent per hop: one
    // connection per exchange, as with agent: false.
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    const req = mod.request(url, {
      method: hop.method,
      headers: groupHeaders(hop.headers),
      agent: secure ? new TlsAgent(hop.tls, { plainScheme: 'http', signal, onSocket: watch }) : false,
      ...(hop.socketPath !== undefined ? { socketPath: hop.socketPath } : {}),
    });
    if (!secure) req.once('socket', watch);
    req.on('error', fail);
    req.once('response', (res) => {
      tHeaders = performance.now();
      const limit = hop.maxBodyBytes;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) {
        finish(new BodyTooLargeError(url.href, limit));
        return;
      }
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          finish(new BodyTooLargeError(url.href, limit));
          return;
        }
        parts.push(chunk);
      });
      res.on('error', fail);
      res.once('close', () => {
        if (!res.complete) fail(Object.assign(new Error('response ended early'), { code: 'ECONNRESET' }));
      });
      res.once('end', () => {
        const tEnd = performance.now();
        const start = tLookup ?? t0;
        finish(undefined, {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          httpVersion: res.httpVersion,
          headers: pairRawHeaders(res.rawHeaders),
          body: Buffer.concat(parts, size),
          timing: {
            dnsMs: tLookup === undefined ? 0 : tLookup - t0,
            connectMs: tConnect === undefined ? 0 : tConnect - start,
            tlsMs: tSecure === undefined || tConnect === undefined ? 0 : tSecure - tConnect,
            firstByteMs: tHeaders! - t0,
            downloadMs: tEnd - tHeaders!,
            totalMs: tEnd - t0,
          },
        });
      });
    });

    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });

    const body = hop.body;
    if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
      req.end(body);
    } else {
      pump(req, body).catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    }
  });
}
