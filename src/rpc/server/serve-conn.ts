/**
 * One net/rpc connection on the server side, as Go's Server.ServeCodec runs
 * it: requests are read as they arrive and each call runs concurrently, so
 * replies go out in whatever order calls finish; every request gets exactly
 * one response (header and body). Bytes that cannot be a request close the
 * connection; an unknown service or a failing method only fails that call.
 * When the client stops sending, calls in flight still finish and answer
 * before the connection closes.
 */
import { RawDecoder } from '../../framing/raw.js';
import type { Conn } from '../../tcp/conn.js';
import type { IncomingRequest, ServerCodec } from '../codec/types.js';
import { type CallInfo, isLookupError, type Registry } from '../registry.js';

/** ConnServeOptions bound one connection. */
export interface ConnServeOptions {
  /** maxConcurrent caps the calls running at once on this connection; more wait, and reading pauses. */
  maxConcurrent: number;
  /** signal starts a graceful stop: no more requests are read; calls in flight answer, then the connection closes. */
  signal?: AbortSignal;
}

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
  // Aborted once the connection is gone: methods see it as their call's signal.
  const life = new AbortController();
  conn.socket.once('close', () => life.abort());
  const remote = conn.remoteAddr?.address;
  const queue: IncomingRequest[] = [];
  let inflight = 0;
  let paused = false;
  let idle: (() => void) | undefined;

  const answer = (req: IncomingRequest, error: string, reply?: unknown, replyType?: unknown) => {
    if (conn.socket.destroyed) return;
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
    conn.send(bytes);
  };

  const call = async (req: IncomingRequest): Promise<void> => {
    if (req.error !== undefined) return answer(req, req.error);
    const found = registry.lookup(req.serviceMethod);
    if (isLookupError(found)) return answer(req, found.error);
    const info: CallInfo = { serviceMethod: req.serviceMethod, remote, signal: life.signal };
    const result = await registry.invoke(found, req.args, info);
    if ('error' in result) answer(req, result.error || 'unspecified error');
    else answer(req, '', result.reply, found.schemas.reply);
  };

  const start = (req: IncomingRequest) => {
    inflight++;
    call(req)
      .catch(() => {}) // answer() cannot throw past its own fallback; a dead socket is ignored
      .finally(() => {
        inflight--;
        const next = queue.shift();
        if (next) start(next);
        if (paused && queue.length < options.maxConcurrent / 2 && !conn.socket.destroyed) {
          paused = false;
          conn.socket.resume();
        }
        if (inflight === 0) idle?.();
      });
  };

  const onChunk = (chunk: Buffer) => {
    for (const req of codec.push(chunk)) {
      if (inflight < options.maxConcurrent) start(req);
      else {
        queue.push(req);
        // Bounded work per connection: stop reading until calls finish.
        if (!paused && queue.length >= options.maxConcurrent) {
          paused = true;
          conn.socket.pause();
        }
      }
    }
  };

  try {
    if (initial && initial.length > 0) onChunk(initial);
    await conn.consumeFrames(new RawDecoder(), onChunk, { signal: options.signal });
  } catch (err) {
    // Bytes that cannot be a request, or a dead socket: nothing more can be answered.
    if (!options.signal?.aborted) {
      conn.destroy(err as Error);
      return;
    }
  } finally {
    if (paused && !conn.socket.destroyed) conn.socket.resume();
  }
  // The client finished sending (or the server is stopping): calls in flight answer first, as in Go.
  if (options.signal?.aborted) queue.length = 0; // stopping: calls not yet started are dropped
  while (inflight > 0 || queue.length > 0) await new Promise<void>((r) => (idle = r));
  await conn.close().catch(() => {});
}
