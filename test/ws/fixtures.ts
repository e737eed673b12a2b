/** Shared setup for WebSocket tests: servers closed after each test, message helpers. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import WebSocket from 'ws';
import { isNetkitError } from '../../src/errors.js';
import {
  dialWs,
  serveWs,
  type WsClient,
  type WsClientOptions,
  type WsMessage,
  type WsServerOptions,
} from '../../src/ws/index.js';

/** startWs serves on a loopback port 0 and closes the server after the test. */
export async function startWs(t: TestContext, options: WsServerOptions = {}) {
  const server = await serveWs('127.0.0.1:0', options);
  t.after(() => server.close());
  return server;
}

/** client connects netkit's client and closes it after the test. */
export async function client(t: TestContext, url: string, options: WsClientOptions = {}): Promise<WsClient> {
  const c = await dialWs(url, options);
  t.after(() => c.close());
  return c;
}

/** next reads one message from an iterable, failing after `ms`. */
export async function next(source: AsyncIterable<WsMessage>, ms = 3000): Promise<WsMessage> {
  const it = source[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    it.next(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
    }),
  ]);
  clearTimeout(timer);
  if (r.done) throw new Error('stream ended before a message arrived');
  return r.value;
}

/** quiet resolves true when no message arrives within `ms`. */
export async function quiet(source: AsyncIterable<WsMessage>, ms = 200): Promise<boolean> {
  try {
    await next(source, ms);
    return false;
  } catch {
    return true;
  }
}

/** rawWs opens a plain `ws` client (for behaviour netkit's client would not show, like ignoring pings). */
export function rawWs(
  url: string,
  options: WebSocket.ClientOptions = {},
  protocols?: string[],
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
}

/** closeOf resolves with the close code and reason a raw socket sees. */
export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** rejectsEachOption asserts that each options object is refused with NETKIT_INVALID_ARGUMENT naming `option`. */
export async function rejectsEachOption(
  cases: readonly [Record<string, unknown>, string][],
  attempt: (opts: Record<string, unknown>) => Promise<unknown>,
): Promise<void> {
  for (const [opts, option] of cases) {
    await assert.rejects(attempt(opts), (err) => {
      assert.ok(isNetkitError(err, 'NETKIT_INVALID_ARGUMENT'), String(err));
      assert.equal((err as { option?: string }).option, option, JSON.stringify(opts));
      return true;
    });
  }
}
