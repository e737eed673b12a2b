import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { AbortError, InvalidArgumentError } from '../../errors.js';
import { endpoint } from '../../tcp/endpoint.js';
import { type AttachWsOptions, resolveAttachOptions } from './attach-options.js';
import { startHub } from './hub.js';
import type { WsPeer } from './peer.js';
import { Rooms } from './rooms.js';
import { type WsFront, WsServer } from './ws-server.js';

/** The paths attachWs serves on each server, so two servers never answer the same upgrade. */
const attached = new WeakMap<net.Server, Set<string>>();

/**
 * attachWs mounts a WebSocket server on an application's existing
 * `http.Server` or `https.Server` (Express's `app.listen()` or
 * `http.createServer(app)`, Fastify's `fastify.server`, Koa's
 * `app.listen()`): it takes the upgrade requests at `path` and serves them
 * as serveWs() does — modes, handler, rooms and bus, origin policy,
 * limits, heartbeat, events — while the application keeps its plain HTTP
 * routes and the server's own limits (header size and timeouts, TLS).
 *
 * Upgrade requests for other paths are left to the server's other
 * 'upgrade' listeners (another `ws` server with `noServer`, socket.io): one
 * that none of them writes to or takes on within
 * `unclaimedUpgradeTimeout`, or any when attachWs's listener is the only
 * one, is answered 404. close() ends the WebSocket connections and removes
 * attachWs's listeners but leaves the server running; closing the server
 * (`server.close()`) closes the WebSocket server first, as its connections
 * would otherwise keep the server from ever finishing its close. The server
 * need not listen yet. Rejects with NETKIT_INVALID_ARGUMENT for a bad
 * option, an option that belongs to the server (`tls`, `page`,
 * `headersTimeout`, …) or a path already attached on that server, or with
 * the bus's error when it cannot connect.
 */
export async function attachWs(
  server: http.Server | https.Server,
  options: AttachWsOptions = {},
): Promise<WsServer> {
  const given: unknown = server;
  if (!(given instanceof http.Server || given instanceof https.Server)) {
    throw new InvalidArgumentError(
      'server',
      'must be an http.Server or https.Server (Express: app.listen() or http.createServer(app); Fastify: fastify.server)',
    );
  }
  const opts = resolveAttachOptions(options);
  if (opts.signal?.aborted) throw new AbortError('attach', opts.signal.reason);
  let paths = attached.get(server);
  if (!paths) {
    paths = new Set();
    attached.set(server, paths);
  }
  if (paths.has(opts.path)) {
    throw new InvalidArgumentError(
      'path',
      `${opts.path} is already attached to this server; close that one first`,
    );
  }
  paths.add(opts.path);
  const rooms = new Rooms(opts.bus);
  try {
    await rooms.start();
  } catch (err) {
    paths.delete(opts.path);
    throw err;
  }
  const peers = new Set<WsPeer>();
  const ws = new WsServer(frontOf(server), peers, rooms, opts);
  const hub = startHub(ws, peers, rooms, opts, () => typeof server.address() === 'string');
  const notFound = `no WebSocket endpoint at this path; try ${opts.path}`;
  const pending = new Set<NodeJS.Timeout>();
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (hub.take(req, socket, head)) return;
    // Alone, this listener is the only one to answer; Node would otherwise hand the request to the app.
    if (server.listenerCount('upgrade') === 1) return hub.reject(req, socket, 404, notFound);
    if (opts.unclaimedUpgradeTimeout === 0) return;
    // node:http drops its own 'error' listener from an upgraded socket, so while the request waits
    // unclaimed, a client that resets it would crash the process with an unhandled 'error'.
    const guard = () => socket.destroy();
    socket.on('error', guard);
    // This listener runs first, so error listeners beyond these are those of a listener that took the socket on.
    const errorListeners = socket.listenerCount('error');
    const settle = () => {
      clearTimeout(timer);
      pending.delete(timer);
      socket.off('close', settle);
    };
    const timer = setTimeout(() => {
      settle();
      if (!claimed(socket as net.Socket, errorListeners)) hub.reject(req, socket, 404, notFound);
      // Taken on: the socket is the other listener's now, with the error handling it chose.
      else socket.off('error', guard);
    }, opts.unclaimedUpgradeTimeout);
    timer.unref();
    pending.add(timer);
    // A client that leaves early frees its timer (and the request it holds) at once.
    socket.once('close', settle);
  };
  // First, so a WebSocket at its path is answered before another listener can mistake it for its own.
  server.prependListener('upgrade', onUpgrade);

  // server.close() waits for every connection to end, WebSocket ones included, and emits nothing
  // until then: its call is the only moment to start closing them. The wrapper is on the instance
  // and is removed when this server closes.
  const ownClose = Object.hasOwn(server, 'close') ? server.close : undefined;
  const baseClose = server.close;
  let hooked = true;
  const close = function (this: typeof server, ...args: Parameters<typeof baseClose>) {
    if (hooked) void ws.close();
    return baseClose.apply(this, args);
  } as typeof baseClose;
  server.close = close;
  const onServerClose = () => void ws.close();
  server.once('close', onServerClose);

  ws.onClose(() => {
    for (const t of pending) clearTimeout(t);
    pending.clear();
    hub.stop();
  });
  // The upgrade listener stays until the peers are gone, so upgrades at the path meanwhile get 503.
  ws.onClosed(() => {
    server.off('upgrade', onUpgrade);
    server.off('close', onServerClose);
    hooked = false;
    if (server.close === close) {
      if (ownClose) server.close = ownClose;
      else delete (server as { close?: unknown }).close;
    }
    paths.delete(opts.path);
  });
  opts.signal?.addEventListener('abort', () => void ws.close(), { once: true });
  // Aborted while the bus was connecting: the listener above came too late to hear it.
  if (opts.signal?.aborted) void ws.close();
  return ws;
}

/**
 * claimed tells whether another 'upgrade' listener answered or took on an
 * upgrade: it wrote to the socket, closed it, or listens for its errors
 * (as `ws`'s handleUpgrade does from its first line, and anything that
 * keeps a socket must).
 */
function claimed(socket: net.Socket, errorListeners: number): boolean {
  return (
    socket.destroyed ||
    !socket.writable ||
    socket.bytesWritten > 0 ||
    socket.listenerCount('error') > errorListeners
  );
}

/** frontOf describes an application's server: its address as it is now, and nothing of its own to close. */
function frontOf(server: http.Server | https.Server): WsFront {
  const scheme = server instanceof tls.Server ? 'https' : 'http';
  return {
    get address() {
      const a = server.address();
      if (a === null) return '';
      if (typeof a === 'string') return a;
      return endpoint(a.address, a.port)?.address ?? '';
    },
    get url() {
      const a = server.address();
      if (a === null) return '';
      if (typeof a === 'string') return `${scheme}://unix:${a}:/`;
      return `${scheme}://${this.address}/`;
    },
    listener: undefined,
    close: () => Promise.resolve(),
    destroy: () => {},
  };
}
