import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { AbortError } from '../../errors.js';
import { startHttpServer } from '../../http/server/serve.js';
import { endpointText, peerEndpoint } from '../../tcp/endpoint.js';
import type { Listener } from '../../tcp/listener.js';
import { verifiedSubject } from '../../tls/client.js';
import { CLOSE } from '../message.js';
import { PAGE_CSP, renderPage } from '../page.js';
import { startHeartbeat } from './heartbeat.js';
import { type ResolvedWsOptions, resolveWsOptions, type WsServerOptions } from './options.js';
import { WsPeer } from './peer.js';
import { Rooms } from './rooms.js';
import { originAllowed, type Route, refuse, route } from './upgrade.js';
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
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: opts.maxPayload,
    perMessageDeflate: opts.perMessageDeflate ? { threshold: 1024, concurrencyLimit: 10 } : false,
    handleProtocols: (offered) => opts.protocols.find((p) => offered.has(p)) ?? false,
  });
  const server = new WsServer(http, peers, rooms, opts);
  const controller = new AbortController();
  let nextId = 0;
  const unix = http.listener.addr.network === 'unix';
  const accept = (ws: WebSocket, req: http.IncomingMessage, r: Route) => {
    const remoteAddress = endpointText(peerEndpoint(req.socket, unix));
    const subject = verifiedSubject(req.socket);
    const peer = new WsPeer(
      ws,
      { id: ++nextId, remoteAddress, path: r.path, query: r.query, room: r.room, headers: req.headers },
      opts.maxQueueBytes,
    );
    peers.add(peer);
    const onEvent = opts.onEvent;
    onEvent?.({
      type: 'open',
      id: peer.id,
      remote: remoteAddress,
      path: r.path,
      room: r.room,
      protocol: ws.protocol,
      ...(subject === undefined ? {} : { subject }),
    });
    void peer.closed.then(({ code, reason }) => {
      peers.delete(peer);
      if (r.room !== undefined) rooms.leave(peer, r.room);
      onEvent?.({
        type: 'close',
        id: peer.id,
        remote: remoteAddress,
        code,
        reason,
        messagesIn: peer.messagesIn,
      });
    });
    if (opts.handler) return runHandler(peer, opts, controller.signal);
    const room = r.room;
    if (room !== undefined) rooms.join(peer, room);
    ws.on('message', (data: Buffer, binary: boolean) => {
      peer.messagesIn++;
      onEvent?.({ type: 'message', id: peer.id, remote: remoteAddress, room, binary, data });
      if (room === undefined) peer.send(data, { binary });
      else rooms.publish(room, data, binary);
    });
  };
  http.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Until ws owns the socket, a reset must not become an uncaught 'error'.
    socket.on('error', () => socket.destroy());
    const r = route(req.url, opts);
    const no = (status: number, reason: string) => {
      opts.onEvent?.({
        type: 'rejected',
        remote: endpointText(peerEndpoint(req.socket, unix)),
        path: req.url ?? '',
        status,
        reason,
      });
      refuse(socket, status, reason);
    };
    if (server.closed) return no(503, 'server shutting down');
    if (r === undefined) return no(404, `no WebSocket endpoint at this path; try ${opts.path}`);
    if (r === 'bad') return no(400, 'bad room name (percent-encoding, "/" or over 256 bytes)');
    if (!originAllowed(req, opts.origins)) return no(403, 'origin not allowed');
    if (peers.size >= opts.maxConnections)
      return no(503, `too many connections (max ${opts.maxConnections})`);
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req, r));
  });
  const stopHeartbeat = startHeartbeat(peers, opts.heartbeat);
  server.onClose(() => {
    stopHeartbeat();
    controller.abort();
    wss.close();
  });
  opts.signal?.addEventListener('abort', () => void server.close(), { once: true });
  return server;
}

async function runHandler(peer: WsPeer, opts: ResolvedWsOptions, serverSignal: AbortSignal): Promise<void> {
  const ac = new AbortController();
  const abort = () => ac.abort();
  serverSignal.addEventListener('abort', abort, { once: true });
  void peer.closed.then(abort);
  try {
    await opts.handler?.(peer, { signal: ac.signal });
    peer.close(CLOSE.NORMAL);
  } catch {
    // The handler's error is the server's business; the peer only learns that something failed.
    peer.close(CLOSE.INTERNAL_ERROR, 'internal error');
  } finally {
    serverSignal.removeEventListener('abort', abort);
  }
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
