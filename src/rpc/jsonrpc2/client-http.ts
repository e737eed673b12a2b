/**
 * The JSON-RPC 2.0 client's HTTP transport: each exchange is one POST on a
 * keep-alive Agent, its answer the response body. A JSON-RPC body is read
 * whatever the status (servers that follow the JSON-RPC over HTTP draft
 * answer errors with 500 and a Response object); a status with no JSON-RPC
 * body is a JsonRpcProtocolError carrying the status.
 */
import http from 'node:http';
import https from 'node:https';
import { ConnectionError, NetkitError } from '../../errors.js';
import { asNetkitError } from '../../tcp/socket-errors.js';
import { unixUrlText } from '../../tcp/unix-url.js';
import { TlsAgent } from '../../tls/agent.js';
import { type ResolvedTlsClient, resolveTlsClient } from '../../tls/client.js';
import { isTlsFailure, tlsError } from '../../tls/failure.js';
import { parseJson } from '../codec/lossless-json.js';
import { type JsonStreamOptions, JsonValueDecoder } from '../json-stream.js';
import { guessWire, mismatchError } from '../wire-guess.js';
import { JsonRpcProtocolError } from './errors.js';
import { type Exchange, type Outcome, readResponses, type Transport } from './transport.js';

/** HttpTransportOptions are the HTTP transport's settings. */
export interface HttpTransportOptions extends JsonStreamOptions {
  /** headers are added to every request (authorization, tracing). */
  headers?: Record<string, string>;
  /** tls is how an https: URL speaks TLS (resolved; the scheme decides whether). */
  tls?: ResolvedTlsClient;
  /** socketPath sends every request to this Unix domain socket instead of the URL's host and port. */
  socketPath?: string | undefined;
}

/** HttpTransport posts each exchange to one URL. */
export class HttpTransport implements Transport {
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #headers: Record<string, string>;
  readonly #socketPath: string | undefined;
  /** #shown is the URL as the caller gave it, for messages (got's form on a Unix socket). */
  readonly #shown: string;
  readonly #limits: JsonStreamOptions;
  readonly #inFlight = new Set<http.ClientRequest>();
  #closing = false;
  #destroyed: Error | undefined;
  #idle: (() => void) | undefined;

  constructor(url: URL, options: HttpTransportOptions) {
    this.#url = url;
    const secure = url.protocol === 'https:';
    // A TlsAgent hands node:https a connection only once it is secure and pin-checked (tls/agent.ts).
    this.#agent = secure
      ? new TlsAgent(options.tls ?? resolveTlsClient(true)!, { plainScheme: 'http', keepAlive: true })
      : new http.Agent({ keepAlive: true });
    this.#socketPath = options.socketPath;
    this.#shown = options.socketPath === undefined ? url.href : unixUrlText(url, options.socketPath);
    this.#request = secure ? https.request : http.request;
    this.#headers = { ...options.headers };
    this.#limits = { maxValueBytes: options.maxValueBytes, maxDepth: options.maxDepth };
  }

  exchange(x: Exchange): Promise<Map<number, Outcome>> {
    if (this.#closing || this.#destroyed) {
      return Promise.reject(
        new ConnectionError('NETKIT_CONNECTION_CLOSED', `${this.#shown}: the JSON-RPC client is closed`),
      );
    }
    if (x.signal.aborted) return Promise.reject(x.signal.reason);
    return new Promise((resolve, reject) => {
      let settled = false;
      const req = this.#request(this.#url, {
        method: 'POST',
        agent: this.#agent,
        ...(this.#socketPath !== undefined ? { socketPath: this.#socketPath } : {}),
        signal: x.signal,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          ...this.#headers,
          'Content-Length': String(Buffer.byteLength(x.body)),
        },
      });
      const settle = (err: Error | undefined, out?: Map<number, Outcome>) => {
        if (settled) return;
        settled = true;
        this.#inFlight.delete(req);
        if (this.#inFlight.size === 0) this.#idle?.();
        if (err) reject(err);
        else resolve(out!);
      };
      // An abort's reason, or a destroy()'s error, explains the failure better than Node's.
      const onError = (err: Error) =>
        settle(x.signal.aborted ? x.signal.reason : (this.#destroyed ?? this.#transportError(err)));
      this.#inFlight.add(req);
      req.on('error', onError);
      req.on('response', (res) => {
        const max = this.#limits.maxValueBytes ?? Number.POSITIVE_INFINITY;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('error', onError);
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) {
            settle(
              new JsonRpcProtocolError(
                `JSON-RPC response from ${this.#shown} exceeds maxValueBytes (${max}); raise maxValueBytes`,
                { status: res.statusCode },
              ),
            );
            req.destroy();
          } else chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            settle(undefined, this.#read(res, Buffer.concat(chunks, size), x.ids));
          } catch (err) {
            settle(err as Error);
          }
        });
      });
      req.end(x.body);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#inFlight.size > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#agent.destroy();
  }

  destroy(err: Error): void {
    this.#destroyed ??= err;
    for (const req of this.#inFlight) req.destroy(err);
    this.#agent.destroy();
  }

  /** #read turns a response into the outcome of each of `ids`. */
  #read(res: http.IncomingMessage, body: Buffer, ids: readonly number[]): Map<number, Outcome> {
    const status = res.statusCode ?? 0;
    const values: Buffer[] = [];
    let value: unknown;
    try {
      const decoder = new JsonValueDecoder(this.#limits);
      const collect = (v: Buffer) => values.push(v);
      decoder.push(body, collect);
      decoder.end(collect);
      if (values.length > 1) throw new Error('more than one JSON value');
      if (values.length === 1) value = parseJson(values[0]!.toString('utf8'));
    } catch (cause) {
      throw this.#statusError(res, body, cause);
    }
    if (values.length === 0) {
      // 204, or an empty 200: right for notifications only.
      if (ids.length === 0 && status >= 200 && status < 300) return new Map();
      throw this.#statusError(res, body);
    }
    let entries: ReturnType<typeof readResponses>;
    try {
      entries = readResponses(value);
    } catch (err) {
      if (status >= 200 && status < 300) throw err;
      throw this.#statusError(res, body, err);
    }
    const out = new Map<number, Outcome>();
    if (ids.length === 0) return out;
    const wanted = new Set(ids);
    for (const { id, outcome } of entries) {
      // One error with id null answers the whole request (bad JSON, a refused batch).
      if (id === null && 'error' in outcome && entries.length === 1) throw outcome.error;
      if (typeof id !== 'number' || !wanted.has(id) || out.has(id)) {
        throw new JsonRpcProtocolError(
          `JSON-RPC server answered id ${JSON.stringify(id)}, which is no call of ours`,
        );
      }
      out.set(id, outcome);
    }
    if (out.size !== wanted.size) {
      throw new JsonRpcProtocolError(`JSON-RPC server answered ${out.size} of ${wanted.size} calls`);
    }
    return out;
  }

  #statusError(res: http.IncomingMessage, body: Buffer, cause?: unknown): JsonRpcProtocolError {
    const status = res.statusCode ?? 0;
    const text = body.toString('utf8', 0, Math.min(body.length, 200)).trim();
    const what = text === '' ? 'no JSON-RPC answer' : `not a JSON-RPC answer: ${text}`;
    return new JsonRpcProtocolError(`${this.#shown}: HTTP ${status} ${res.statusMessage ?? ''}, ${what}`, {
      status,
      cause,
    });
  }

  #transportError(err: NodeJS.ErrnoException): Error {
    const where = this.#socketPath !== undefined ? `unix:${this.#socketPath}` : this.#url.host;
    // The TLS agent's own failures are already in words; a TLS 1.3 refusal comes later, on a read.
    if (err instanceof NetkitError) return err;
    if (isTlsFailure(err)) return tlsError(err, where, 'http');
    // Node's HTTP parser failed on the answer: a server that does not speak HTTP may say what it speaks instead.
    const raw = (err as { rawPacket?: unknown }).rawPacket;
    if (err.code?.startsWith('HPE_') && Buffer.isBuffer(raw)) {
      const seen = guessWire(raw);
      if (seen !== undefined && seen !== 'http') {
        return mismatchError({ codec: 'jsonrpc2', http: true }, seen, raw, err);
      }
    }
    if (err.code === 'ECONNREFUSED') {
      return new ConnectionError(
        'NETKIT_DIAL_FAILED',
        `dial ${this.#socketPath !== undefined ? 'unix' : 'tcp'} ${where}: connection refused`,
        where,
        {
          cause: err,
        },
      );
    }
    return asNetkitError(err, where);
  }
}
