import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { endpointText, peerEndpoint } from '../../tcp/endpoint.js';
import { verifiedSubject } from '../../tls/client.js';
import { CLOSE } from '../message.js';
import { startHeartbeat } from './heartbeat.js';
import type { ResolvedWsOptions } from './options.js';
import { WsPeer } from './peer.js';
import type { Rooms } from './rooms.js';
import { originAllowed, type Route, refuse, route } from './upgrade.js';
import type { WsServer } from './ws-server.js';

// The echo's send options, made once rather than for every message.
const AS_BINARY = Object.freeze({ binary: true });
const AS_TEXT = Object.freeze({ binary: false });

/**
 * WsHub is the part of a WebSocket server that does not care where its
 * upgrade requests come from: its own HTTP server (serveWs) or one it is
 * attached to (attachWs). It owns the handshake, the limits, the modes and
 * the heartbeat; the caller owns the 'upgrade' listener.
 */
export interface WsHub {
  /**
   * take answers an upgrade request at the server's path — the handshake,
   * or a refusal (400, 403, 503) — and returns true; it returns false, and
   * leaves the socket untouched, when the path is not the server's.
   */
  take(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** reject refuses an upgrade request with an HTTP error, and reports it to onEvent. */
  reject(req: http.IncomingMessage, socket: Duplex, status: number, reason: string): void;
  /** stop ends the heartbeat, aborts handlers' signals and stops `ws` from accepting. */
  stop(): void;
}

/**
 * startHub makes the WsHub of `server`. `unix` tells whether connections
 * come from a Unix socket, where peers have no address of their own.
 */
export function startHub(
  server: WsServer,
  peers: Set<WsPeer>,
  rooms: Rooms,
  opts: ResolvedWsOptions,
  unix: () => boolean,
): WsHub {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: opts.maxPayload,
    perMessageDeflate: opts.perMessageDeflate ? { threshold: 1024, concurrencyLimit: 10 } : false,
    handleProtocols: (offered) => opts.protocols.find((p) => offered.has(p)) ?? false,
  });
  const controller = new AbortController();
  let nextId = 0;
  const accept = (ws: WebSocket, req: http.IncomingMessage, socket: Duplex, r: Route) => {
    const remoteAddress = endpointText(peerEndpoint(req.socket, unix()));
    const subject = verifiedSubject(req.socket);
    const peer = new WsPeer(
      ws,
      { id: ++nextId, remoteAddress, path: r.path, query: r.query, room: r.room, headers: req.headers },
      opts.maxQueueBytes,
      socket,
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
      if (room === undefined) peer.send(data, binary ? AS_BINARY : AS_TEXT);
      else rooms.publish(room, data, binary);
    });
  };
  const reject = (req: http.IncomingMessage, socket: Duplex, status: number, reason: string) => {
    // Until the socket is closed, a reset must not become an uncaught 'error'.
    socket.on('error', () => socket.destroy());
    opts.onEvent?.({
      type: 'rejected',
      remote: endpointText(peerEndpoint(req.socket, unix())),
      path: req.url ?? '',
      status,
      reason,
    });
    refuse(socket, status, reason);
  };
  const take = (req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const r = route(req.url, opts);
    if (r === undefined) return false;
    if (server.closed) reject(req, socket, 503, 'server shutting down');
    else if (r === 'bad') reject(req, socket, 400, 'bad room name (percent-encoding, "/" or over 256 bytes)');
    else if (!originAllowed(req, opts.origins)) reject(req, socket, 403, 'origin not allowed');
    else if (peers.size >= opts.maxConnections)
      reject(req, socket, 503, `too many connections (max ${opts.maxConnections})`);
    else {
      // Until ws owns the socket, a reset must not become an uncaught 'error'.
      socket.on('error', () => socket.destroy());
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req, socket, r));
    }
    return true;
  };
  const stopHeartbeat = startHeartbeat(peers, opts.heartbeat);
  return {
    take,
    reject,
    stop() {
      stopHeartbeat();
      controller.abort();
      wss.close();
    },
  };
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
