/**
 * One net/rpc connection on the server side, as Go's Server.ServeCodec runs
 * it: requests are read as they arrive and each call runs concurrently, so
 * replies go out in whatever order calls finish; every request gets exactly
 * one response (header and body). Bytes that cannot be a request close the
 * connection; an unknown service or a failing method only fails that call.
 * When the client stops sending, calls in flight still finish and answer
 * before the connection closes.
 *
 * Memory per connection is bounded (RELIABILITY 36). The connection is read
 * only while nothing holds it back, and two things can: too many requests
 * read and not yet started (more than maxConcurrent), and replies the client
 * is not reading (the socket's buffer is over its high-water mark). Each is a
 * separate reason in one set, so neither can resume what the other paused.
 * While replies wait, no new call starts either: a call's reply is only
 * produced once there is room to write it. What is held is then one read
 * buffer of requests, the calls running, and their replies.
 */
import { performance } from 'node:perf_hooks';
import { Fifo } from '../../internal/fifo.js';
import type { Conn } from '../../tcp/conn.js';
import { endpointText } from '../../tcp/endpoint.js';
import type { CallEvent } from '../call-event.js';
import type { IncomingRequest, ServerCodec } from '../codec/types.js';
import { type CallInfo, type Invoked, isLookupError, type Registered, type Registry } from '../registry.js';
import { watchIdle } from './idle.js';

/** ConnServeOptions bound one connection. */
export interface ConnServeOptions {
  /** maxConcurrent caps the calls running at once on this connection; more wait, and reading pauses. */
  maxConcurrent: number;
  /** idleTimeout closes the connection once nothing moved and no call ran for this many ms (0 or absent: never). */
  idleTimeout?: number;
  /** onCall is told about every request answered, after its answer is written. */
  onCall?: (event: CallEvent) => void;
  /** signal starts a graceful stop: no more requests are read; calls in flight answer, then the connection closes. */
  signal?: AbortSignal;
}

/** Why reading is paused: calls waiting to start, or replies waiting for the client to read them. */
type Hold = 'calls' | 'replies';

/**
 * serveRpcConn serves `conn` until the peer closes it or the bytes go bad;
 * `initial` holds bytes already read from it (after an HTTP CONNECT). It
 * resolves once the connection is closed; it never rejects.
 */
export async function serveRpcConn(
  conn: Conn,
  codec: ServerCodec,
  registry: Registry,
  options: ConnServeOptions,
  initial?: Buffer,
): Promise<void> {
  const { maxConcurrent, onCall, signal } = options;
  const socket = conn.socket;
  // Aborted once the connection is gone: methods see it as their call's signal.
  const life = new AbortController();
  const remote = conn.remoteAddr && endpointText(conn.remoteAddr);
  // Requests read but not started.
  const waiting = new Fifo<IncomingRequest>();
  let running = 0;
  const holds = new Set<Hold>();
  // The reader waiting for every hold to lift, and the end waiting for the last call.
  let wake: (() => void) | undefined;
  let settled: (() => void) | undefined;
  const nudge = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const release = (hold: Hold) => {
    if (holds.delete(hold) && holds.size === 0) nudge();
  };

  const onDrain = () => {
    release('replies');
    pump();
  };
  const answer = (req: IncomingRequest, error: string, reply?: unknown, replyType?: unknown) => {
    if (socket.destroyed) return;
    const header = { serviceMethod: req.serviceMethod, seq: req.seq, error };
    let bytes: Buffer;
    try {
      bytes = codec.encodeResponse(header, reply, replyType);
    } catch (err) {
      // The reply does not fit its type: the caller gets the reason instead of a hung call.
      bytes = codec.encodeResponse(
        { ...header, error: `rpc: cannot encode reply: ${(err as Error).message}` },
        undefined,
      );
    }
    if (!conn.send(bytes) && !socket.destroyed && !holds.has('replies')) {
      // The client is not reading its replies: stop reading its requests and starting its calls until it does.
      holds.add('replies');
      socket.once('drain', onDrain);
    }
  };

  // call answers `req` and returns its error text ('' on success): at once when the method
  // returned a plain value, else once its promise settles.
  const call = (req: IncomingRequest): string | Promise<string> => {
    if (req.error !== undefined) {
      answer(req, req.error);
      return req.error;
    }
    const found = registry.lookup(req.serviceMethod);
    if (isLookupError(found)) {
      answer(req, found.error);
      return found.error;
    }
    const info: CallInfo = { serviceMethod: req.serviceMethod, remote, signal: life.signal };
    const result = registry.invoke(found, req.args, info);
    return result instanceof Promise ? result.then((r) => reply(req, found, r)) : reply(req, found, result);
  };

  const reply = (req: IncomingRequest, found: Registered, result: Invoked): string => {
    if ('error' in result) {
      const error = result.error || 'unspecified error';
      answer(req, error);
      return error;
    }
    answer(req, '', result.reply, found.schemas.reply);
    return '';
  };

  const report = (req: IncomingRequest, started: number, error: string) => {
    try {
      onCall?.({
        remote,
        method: req.serviceMethod,
        durationMs: performance.now() - started,
        ...(error === '' ? {} : { error }),
      });
    } catch {
      // A failing logger must not fail the connection.
    }
  };

  const start = (req: IncomingRequest) => {
    running++;
    const started = onCall ? performance.now() : 0;
    let outcome: string | Promise<string> | undefined;
    try {
      outcome = call(req);
    } catch {
      // answer() cannot throw past its own fallback; a dead socket is ignored
    }
    if (typeof outcome !== 'object') {
      // Answered already; pump(), the only caller, goes on starting the next.
      if (outcome !== undefined) report(req, started, outcome);
      running--;
      if (running === 0 && waiting.length === 0) settled?.();
      return;
    }
    outcome
      .then(
        (error) => report(req, started, error),
        () => {}, // answer() cannot throw past its own fallback; a dead socket is ignored
      )
      .finally(() => {
        running--;
        pump();
        if (running === 0 && waiting.length === 0) settled?.();
      });
  };

  /** pump starts waiting calls while there is room for them and for their replies. */
  function pump(): void {
    while (running < maxConcurrent && waiting.length > 0 && !holds.has('replies')) start(waiting.shift()!);
    // Reading resumes once half of the backlog has started, not at every call.
    if (holds.has('calls') && waiting.length < maxConcurrent / 2) release('calls');
  }

  const take = (chunk: Buffer) => {
    for (const req of codec.push(chunk)) waiting.push(req);
    pump();
    if (waiting.length >= maxConcurrent) holds.add('calls');
  };

  const stopIdle = watchIdle(conn, options.idleTimeout ?? 0, () => running > 0);
  socket.once('close', () => {
    life.abort();
    stopIdle();
    socket.off('drain', onDrain);
    // Nothing can be answered any more: drop what waits, and let the reader and the end go on.
    waiting.clear();
    holds.clear();
    nudge();
    settled?.();
  });
  // Stopping ends a read in progress by moving the read deadline to now, not through a signal
  // passed to every read: adding and removing an abort listener per request costs more than
  // decoding the request.
  const onAbort = () => {
    conn.setReadDeadline(Date.now());
    nudge();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  try {
    if (initial && initial.length > 0) take(initial);
    for (;;) {
      // Read only while nothing holds the connection back; meanwhile the kernel's buffers fill and the client stalls.
      while (holds.size > 0 && !socket.destroyed && !signal?.aborted) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const chunk = await conn.read();
      if (chunk === null) break;
      take(chunk);
    }
  } catch (err) {
    // Bytes that cannot be a request, or a dead socket: nothing more can be answered.
    if (!signal?.aborted) {
      conn.destroy(err as Error);
      return;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  // The client finished sending (or the server is stopping): calls in flight answer first, as in Go.
  if (signal?.aborted) {
    // Stopping: calls not yet started are dropped.
    waiting.clear();
  }
  // A closed socket empties the queue; calls running still finish (their signal aborts), as Go's ServeCodec waits for them.
  while (running > 0 || waiting.length > 0) {
    await new Promise<void>((resolve) => (settled = resolve));
  }
  await conn.close().catch(() => {});
}
