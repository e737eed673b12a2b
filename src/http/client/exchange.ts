import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AddrError, ConnectionError, NetkitError } from '../../errors.js';
import { TlsAgent } from '../../tls/agent.js';
import type { ResolvedTlsClient } from '../../tls/client.js';
import { isTlsFailure, tlsError } from '../../tls/failure.js';
import { chooseProxy, type ProxyOption } from '../../tunnel/index.js';
import { BodyTooLargeError, HttpProtocolError, protocolError } from './errors.js';
import { proxyConnection } from './proxy-connection.js';
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
  /** proxy picks the forward proxy for this hop's URL (none for a Unix socket). */
  proxy?: ProxyOption | undefined;
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
export function hostLabel(url: URL, socketPath: string | undefined): string {
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

/**
 * HopHead is a response whose status line and headers have arrived; its body
 * has not been read yet.
 */
export interface HopHead {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: [string, string][];
  /**
   * body yields the body's chunks as they arrive, with backpressure (read it
   * once). It throws BodyTooLargeError past `maxBodyBytes`, the connection's
   * error (mapped) when the body is cut short, and `signal.reason` on abort.
   * Leaving it early destroys the connection.
   */
  body: AsyncIterable<Buffer>;
  /** timing is the exchange's timing once the body has been read to its end, undefined before. */
  timing(): HttpTiming | undefined;
  /** phases are the timings known when the head arrived. */
  phases: Pick<HttpTiming, 'dnsMs' | 'connectMs' | 'tlsMs' | 'firstByteMs'>;
  /** cancel stops an exchange whose body is not wanted: the connection is destroyed and a read throws `reason`. */
  cancel(reason: Error): void;
}

/** exchange performs one HTTP request on a new connection and buffers the response. */
export async function exchange(hop: Hop): Promise<HopResult> {
  const head = await openExchange(hop);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of head.body) {
    parts.push(chunk);
    size += chunk.length;
  }
  return {
    status: head.status,
    statusText: head.statusText,
    httpVersion: head.httpVersion,
    headers: head.headers,
    body: Buffer.concat(parts, size),
    timing: head.timing()!,
  };
}

/**
 * openExchange performs one HTTP request on a new connection and resolves
 * when the response head arrives, leaving the body to stream (HopHead.body).
 * Until the body ends, `hop.signal` still aborts the exchange.
 */
export function openExchange(hop: Hop): Promise<HopHead> {
  return new Promise<HopHead>((resolve, reject) => {
    const { url, signal } = hop;
    const t0 = performance.now();
    let tLookup: number | undefined;
    let tConnect: number | undefined;
    let tSecure: number | undefined;
    let tHeaders: number | undefined;
    let tEnd: number | undefined;
    let res: http.IncomingMessage | undefined;
    // The first failure wins: a pending body read sees it, whatever error destroying the socket causes next.
    let failure: Error | undefined;

    const fail = (err: Error) => {
      if (failure !== undefined || tEnd !== undefined) return;
      failure = err;
      signal.removeEventListener('abort', onAbort);
      if (res === undefined) reject(err);
      else res.destroy(err);
      req.destroy();
    };
    const onAbort = () => fail(signal.reason as Error);
    const failMapped = (err: unknown) => fail(mapError(err, hop, tConnect !== undefined));
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
    const proxy = hop.socketPath === undefined ? chooseProxy(hop.proxy, url) : undefined;
    const req = mod.request(url, {
      method: hop.method,
      headers: groupHeaders(hop.headers),
      ...(proxy !== undefined
        ? proxyConnection(proxy, url, hop.tls, signal, () => {
            // Through a proxy, connectMs is the tunnel and the TLS inside it; tlsMs stays 0.
            tConnect = performance.now();
          })
        : {
            agent: secure ? new TlsAgent(hop.tls, { plainScheme: 'http', signal, onSocket: watch }) : false,
          }),
      ...(hop.socketPath !== undefined ? { socketPath: hop.socketPath } : {}),
    });
    if (!secure && proxy === undefined) req.once('socket', watch);
    req.on('error', failMapped);
    // A 101 (asked for or not): node:http hands the socket to 'upgrade' listeners and, with none,
    // destroys it without an 'error', which would leave this exchange waiting for good.
    req.once('upgrade', (response: http.IncomingMessage, socket: Socket) => {
      socket.destroy();
      const address = hostLabel(url, hop.socketPath);
      fail(
        new HttpProtocolError(
          `http ${address}: the server switched protocols (${response.statusCode}); this client speaks only HTTP/1.1`,
          address,
          Buffer.alloc(0),
        ),
      );
    });
    req.once('response', (response) => {
      res = response;
      tHeaders = performance.now();
      const limit = hop.maxBodyBytes;
      res.on('error', failMapped);
      // A body declared bigger than allowed is cut before it is read; the first read says why.
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) fail(new BodyTooLargeError(url.href, limit));
      const start = tLookup ?? t0;
      const phases = {
        dnsMs: tLookup === undefined ? 0 : tLookup - t0,
        connectMs: tConnect === undefined ? 0 : tConnect - start,
        tlsMs: tSecure === undefined || tConnect === undefined ? 0 : tSecure - tConnect,
        firstByteMs: tHeaders - t0,
      };
      resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        httpVersion: res.httpVersion,
        headers: pairRawHeaders(res.rawHeaders),
        body: readBody(response, limit),
        phases,
        cancel: fail,
        timing: () =>
          tEnd === undefined ? undefined : { ...phases, downloadMs: tEnd - tHeaders!, totalMs: tEnd - t0 },
      });
    });

    async function* readBody(body: http.IncomingMessage, limit: number): AsyncGenerator<Buffer> {
      let size = 0;
      try {
        if (failure !== undefined) throw failure;
        for await (const chunk of body as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > limit) fail(new BodyTooLargeError(url.href, limit));
          if (failure !== undefined) throw failure;
          yield chunk;
        }
        if (failure !== undefined) throw failure;
        if (!body.complete)
          failMapped(Object.assign(new Error('response ended early'), { code: 'ECONNRESET' }));
        if (failure !== undefined) throw failure;
        tEnd = performance.now();
        signal.removeEventListener('abort', onAbort);
      } catch (err) {
        throw failure ?? mapError(err, hop, true);
      } finally {
        // Left early (the caller stopped reading): the connection cannot be reused, so it goes.
        if (tEnd === undefined && failure === undefined) {
          signal.removeEventListener('abort', onAbort);
          req.destroy();
        }
      }
    }

    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });

    const body = hop.body;
    if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
      req.end(body);
    } else {
      pump(req, body).catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
    }
  });
}
