import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { AbortError } from '../../errors.js';
import { startHttpServer } from '../../http/server/serve.js';
import type { Listener } from '../../tcp/listener.js';
import { PAGE_CSP, renderPage } from '../page.js';
import { startHub } from './hub.js';
import { type ResolvedWsOptions, resolveWsOptions, type WsServerOptions } from './options.js';
import type { WsPeer } from './peer.js';
import { Rooms } from './rooms.js';
import { route } from './upgrade.js';
import { WsServer } from './ws-server.js';

/**
 * serveWs listens on `address` (Go's syntax: `:8080`, `127.0.0.1:0`) and
 * accepts WebSocket upgrades at `path`: it echoes each message back (echo
 * mode), sends it to everyone in the sender's room (broadcast mode), or
 * hands each connection to `handler`. With `page`, GET / serves a browser
 * client. Every connection is bounded: `maxPayload` per message (1009),
 * `maxQueueBytes` sent and not yet read, kernel buffers included (1008),
 * a heartbeat for silent peers, and `maxConnections` (503). Rejects with
 * NETKIT_INVALID_ARGUMENT for a bad option, NETKIT_LISTEN_FAILED when the
 * address cannot be bound, or the bus's error when it cannot connect.
 */
export async function serveWs(address: Listener | string, options: WsServerOptions = {}): Promise<WsServer> {
  const opts = resolveWsOptions(options);
  if (opts.signal?.aborted) throw new AbortError('listen', opts.signal.reason);
  const rooms = new Rooms(opts.bus);
  await rooms.start();
  const peers = new Set<WsPeer>();
  const page = opts.page ? Buffer.from(renderPage(opts.path)) : undefined;
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer(address, (state) => requestHandler(opts, page, () => state.closing), {
      network: opts.network,
      headersTimeout: opts.headersTimeout,
      requestTimeout: opts.headersTimeout > 0 ? Math.max(opts.headersTimeout, 30_000) : 0,
      keepAliveTimeout: 5_000,
      shutdownTimeout: opts.shutdownTimeout,
      signal: undefined,
      proxy: opts.proxy,
      tls: opts.tls,
      ...(opts.socketMode !== undefined ? { socketMode: opts.socketMode } : {}),
    });
  } catch (err) {
    await rooms.close();
    throw err;
  }
  const server = new WsServer(http, peers, rooms, opts);
  const unix = http.listener.addr.network === 'unix';
  const hub = startHub(server, peers, rooms, opts, () => unix);
  http.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // This server is the only one on its port, so an upgrade it does not take is nobody's.
    if (!hub.take(req, socket, head))
      hub.reject(req, socket, 404, `no WebSocket endpoint at this path; try ${opts.path}`);
  });
  server.onClose(() => hub.stop());
  opts.signal?.addEventListener('abort', () => void server.close(), { once: true });
  return server;
}

/** requestHandler answers plain HTTP: the page at `/`, 426 at the WebSocket path, 404 elsewhere. */
function requestHandler(
  opts: ResolvedWsOptions,
  page: Buffer | undefined,
  closing: () => boolean,
): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    if (closing()) headers.Connection = 'close';
    if (page && path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, {
        ...headers,
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': String(page.length),
        'Content-Security-Policy': PAGE_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : page);
      return;
    }
    const isOurs = route(req.url, opts) !== undefined;
    const status = isOurs ? 426 : 404;
    const body = isOurs
      ? 'this is a WebSocket endpoint: connect with a WebSocket client\n'
      : `not found; the WebSocket endpoint is ${opts.path}${page ? ' and the page is at /' : ''}\n`;
    res.writeHead(status, isOurs ? { ...headers, Upgrade: 'websocket', Connection: 'Upgrade' } : headers);
    res.end(body);
  };
}
