import net from 'node:net';
import type tls from 'node:tls';
import { lookupPort } from '../addr/port.js';
import { type ResolveOptions, resolveTCPAddr } from '../addr/resolve.js';
import { joinHostPort, splitHostPort } from '../addr/split.js';
import { AbortError, ConnectionError, InvalidArgumentError, TimeoutError } from '../errors.js';
import { connectSocket } from '../internal/connect.js';
import { osErrorText } from '../internal/os-errors.js';
import { checkMs, checkSignal } from '../internal/validate.js';
import type { ResolvedTlsClient, TlsClientOptions } from '../tls/client.js';
import { tlsError } from '../tls/failure.js';
import { type ProxyInput, type ProxySpec, parseProxyUrl } from '../tunnel/proxy-url.js';
import { Conn } from './conn.js';
import { dialPlan, type LocalBind, planDial } from './dial-plan.js';
import { applyKeepAlive, type KeepAliveOptions, normalizeKeepAlive } from './keepalive.js';
import { streamTarget } from './unix.js';

// A plain connection needs neither TLS (node:tls, node:crypto, the client's
// certificate checks) nor the proxy tunnel (HTTP CONNECT, SOCKS5): both are
// loaded on the first dial that asks for them, so that importing netkit/tcp
// and `netkit tcp connect` start as fast as the plain path allows.
let tlsModules: Promise<[typeof tls, typeof import('../tls/client.js')]> | undefined;
function loadTls(): Promise<[typeof tls, typeof import('../tls/client.js')]> {
  tlsModules ??= Promise.all([import('node:tls').then((m) => m.default), import('../tls/client.js')]);
  return tlsModules;
}
let tunnelModule: Promise<typeof import('../tunnel/dial.js')> | undefined;
function loadTunnel(): Promise<typeof import('../tunnel/dial.js')> {
  tunnelModule ??= import('../tunnel/dial.js');
  return tunnelModule;
}

/** DialOptions tunes dial(). Durations are milliseconds. */
export interface DialOptions {
  /** network is tcp (default), tcp4 or tcp6, with Go's meaning. */
  network?: string;
  /** timeout bounds the whole dial, resolution included; 0 means none. Default 30 s. */
  timeout?: number;
  /** signal aborts the dial; the promise then rejects with `AbortError` (NETKIT_ABORTED). */
  signal?: AbortSignal;
  /** keepAlive defaults to Go's: enabled, 15 s idle. */
  keepAlive?: KeepAliveOptions;
  /** noDelay disables Nagle's algorithm; true by default, as in Go. */
  noDelay?: boolean;
  /** localAddress binds the local side: `127.0.0.2` or `127.0.0.2:0`. */
  localAddress?: string;
  /** lookup replaces the system resolver for host names (same shape as resolveTCPAddr's option). */
  lookup?: ResolveOptions['lookup'];
  /** highWaterMark is how many unread bytes Conn buffers before pausing the socket. */
  highWaterMark?: number;
  /**
   * tls runs a TLS handshake once connected (`true`: the system's roots);
   * the handshake counts against `timeout`. Failures are NETKIT_TLS_FAILED
   * with the reason in words (expired, wrong host, unknown CA, pin
   * mismatch, client certificate required).
   */
  tls?: TlsClientOptions | boolean;
  /**
   * preface is written as soon as the TCP connection is up, before a TLS
   * handshake: a PROXY protocol header (netkit/proxy's builders) for a
   * server behind `accept-proxy`.
   */
  preface?: Uint8Array;
  /**
   * proxy reaches `address` through a forward proxy: `http://host:port`
   * (HTTP CONNECT), `socks5://` (the name resolved here) or `socks5h://`
   * (resolved by the proxy), with `user:password@` for one that wants
   * credentials; '' means none. keepAlive, noDelay and localAddress apply
   * to the connection to the proxy; the preface and TLS go through the
   * tunnel to the target (SNI and certificate checks are the target's).
   * The proxy's refusals are NETKIT_TUNNEL_FAILED, NETKIT_TUNNEL_AUTH or
   * NETKIT_TUNNEL_PROTOCOL; see docs/proxies.md.
   */
  proxy?: ProxyInput;
}

/** DIAL_DEFAULTS are dial()'s defaults. */
export const DIAL_DEFAULTS = Object.freeze({
  /** Both families, as Go's "tcp". */
  network: 'tcp',
  /** 30 s, resolution and TLS included. */
  timeout: 30_000,
  /** Nagle off, as Go does. */
  noDelay: true,
});

/**
 * dial connects to `address` (`host:port`, Go's syntax: `[::1]:80`,
 * `localhost:http`; or a Unix socket, `unix:/run/app.sock` or network
 * `unix`) and resolves with a Conn. The host is resolved by Go's
 * rules (resolveTCPAddr); an empty host means the local system. A name with
 * several addresses is dialled as Go's Dialer does (see dial-plan.ts):
 * addresses in turn, the other family raced in after 300 ms. Rejects with
 * NETKIT_DIAL_FAILED (cause: ECONNREFUSED…), NETKIT_CONNECT_TIMEOUT,
 * NETKIT_ABORTED, or an address error.
 */
export async function dial(address: string, options: DialOptions = {}): Promise<Conn> {
  const socket = await dialSocket(address, options);
  const path = streamTarget(options.network ?? DIAL_DEFAULTS.network, address).path;
  const unix = path !== undefined ? { local: '', remote: path } : undefined;
  return new Conn(socket, { highWaterMark: options.highWaterMark, unix });
}

/**
 * dialSocket is dial() for protocols that drive the socket themselves (a
 * relay, an HTTP agent): the same resolution, timeout, keep-alive and TLS,
 * resolving with the connected socket (a tls.TLSSocket with `tls`) in
 * half-open mode and paused until the caller reads. Rejects as dial() does.
 */
export async function dialSocket(address: string, options: DialOptions = {}): Promise<net.Socket> {
  const target = streamTarget(options.network ?? DIAL_DEFAULTS.network, address);
  const network = target.network;
  const timeout = checkMs('timeout', options.timeout ?? DIAL_DEFAULTS.timeout);
  const signal = checkSignal(options.signal);
  normalizeKeepAlive('keepAlive', options.keepAlive);
  const secure =
    options.tls === undefined || options.tls === false
      ? undefined
      : (await loadTls())[1].resolveTlsClient(options.tls);
  const proxy =
    options.proxy === undefined || options.proxy === '' ? undefined : parseProxyUrl(options.proxy);
  if (proxy !== undefined && target.path !== undefined) {
    throw new InvalidArgumentError('proxy', 'a Unix socket is reached directly, never through a proxy');
  }
  const local =
    options.localAddress === undefined || target.path !== undefined
      ? undefined
      : await localBind(options.localAddress, network);

  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeout > 0
      ? setTimeout(
          () => controller.abort(new TimeoutError('NETKIT_CONNECT_TIMEOUT', 'dial', '', timeout)),
          timeout,
        )
      : undefined;
  try {
    if (signal?.aborted) throw new AbortError('dial', signal.reason);
    const failed = (err: NodeJS.ErrnoException) => {
      if (controller.signal.aborted) throw stopped(controller.signal.reason, network, address, timeout);
      throw new ConnectionError(
        'NETKIT_DIAL_FAILED',
        `dial ${network} ${address}: ${osErrorText(err)}`,
        address,
        {
          cause: err,
        },
      );
    };
    let socket: net.Socket;
    let host = '';
    if (target.path !== undefined) {
      socket = await connectSocket({ path: target.path }, controller.signal).catch(failed);
    } else if (proxy !== undefined) {
      host = splitHostPort(target.address).host;
      socket = await viaProxy(
        proxy,
        target.address,
        network,
        options,
        local,
        controller.signal,
        timeout,
      ).catch((err) => {
        if (!controller.signal.aborted) throw err;
        throw stopped(controller.signal.reason, network, `${address} through proxy ${proxy.href}`, timeout);
      });
    } else {
      const resolveOpts = {
        signal: controller.signal,
        ...(options.lookup ? { lookup: options.lookup } : {}),
      };
      const addr = await resolveTCPAddr(network, target.address, resolveOpts).catch((err) => {
        throw controller.signal.aborted ? stopped(controller.signal.reason, network, address, timeout) : err;
      });
      host = splitHostPort(target.address).host;
      const deadline = timeout > 0 ? Date.now() + timeout : undefined;
      socket = await dialPlan(planDial(addr, local), addr.port, local, controller.signal, deadline).catch(
        failed,
      );
      socket.setNoDelay(options.noDelay ?? DIAL_DEFAULTS.noDelay);
      await applyKeepAlive(socket, options.keepAlive).catch((err) => {
        socket.destroy();
        throw err;
      });
    }
    if (options.preface !== undefined && options.preface.length > 0) socket.write(options.preface);
    if (secure !== undefined) {
      const [tlsModule, client] = await loadTls();
      socket = await handshake(
        tlsModule,
        client,
        socket,
        secure,
        host || 'localhost',
        controller.signal,
      ).catch((err) => {
        socket.destroy();
        if (controller.signal.aborted) throw stopped(controller.signal.reason, network, address, timeout);
        throw tlsError(err, address, 'tcp');
      });
    }
    return socket;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * viaProxy opens a tunnel to `address` through `proxy`, connecting to the
 * proxy as a direct dial connects (Happy Eyeballs, local address,
 * keep-alive, no delay); the time budget and the signal are the dial's.
 */
async function viaProxy(
  proxy: ProxySpec,
  address: string,
  network: string,
  options: DialOptions,
  local: LocalBind | undefined,
  signal: AbortSignal,
  timeout: number,
): Promise<net.Socket> {
  const { host, port } = splitHostPort(address);
  // The proxy is handed a port number: a service name (`host:http`) is looked up here.
  const target = joinHostPort(host, await lookupPort(network, port));
  const deadline = timeout > 0 ? Date.now() + timeout : undefined;
  const { dialTunnel } = await loadTunnel();
  return dialTunnel(proxy, target, {
    timeout: 0,
    signal,
    network,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    connect: async (proxyHost, proxyPort, connectSignal) => {
      // The proxy's own address may be of either family, whatever `network` asks of the target.
      const addr = await resolveTCPAddr(
        'tcp',
        joinHostPort(proxyHost, proxyPort),
        options.lookup ? { signal: connectSignal, lookup: options.lookup } : { signal: connectSignal },
      );
      const socket = await dialPlan(planDial(addr, local), addr.port, local, connectSignal, deadline);
      socket.setNoDelay(options.noDelay ?? DIAL_DEFAULTS.noDelay);
      await applyKeepAlive(socket, options.keepAlive).catch((err) => {
        socket.destroy();
        throw err;
      });
      return socket;
    },
  });
}

/**
 * handshake runs the client side of TLS on a connected socket. Node checks
 * the certificate (and a pin, in checkServerIdentity) before
 * 'secureConnect', so a refused server never sees an application byte.
 */
function handshake(
  { connect }: typeof tls,
  { checkPin, tlsConnectOptions }: typeof import('../tls/client.js'),
  socket: net.Socket,
  o: ResolvedTlsClient,
  host: string,
  signal: AbortSignal,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = connect({ ...tlsConnectOptions(o, host), socket });
    const onAbort = () => {
      secure.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    secure.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      const pinErr = checkPin(o, secure);
      if (pinErr !== undefined) {
        secure.destroy();
        reject(pinErr);
        return;
      }
      secure.removeAllListeners('error');
      resolve(secure);
    });
    secure.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      secure.destroy();
      reject(err);
    });
  });
}

async function localBind(address: string, network: string): Promise<LocalBind> {
  // Accept a bare IP as well as Go's host:port form.
  const withPort = net.isIP(address) === 0 ? address : joinHostPort(address, 0);
  const r = await resolveTCPAddr(network, withPort);
  return { ip: r.ip, port: r.port, family: r.family === 6 ? 6 : 4 };
}

function stopped(reason: unknown, network: string, address: string, timeout: number): Error {
  if (reason instanceof TimeoutError) {
    return new TimeoutError(
      'NETKIT_CONNECT_TIMEOUT',
      'dial',
      `dial ${network} ${address}: no connection within ${timeout} ms; check that the server is up or raise the timeout`,
      timeout,
    );
  }
  return new AbortError(`dial ${network} ${address}`, reason);
}
