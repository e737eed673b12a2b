import net from 'node:net';
import { resolveTCPAddr } from '../addr/index.js';
import { AbortError, InvalidArgumentError, ListenError } from '../errors.js';
import { bindErrorText } from '../internal/os-errors.js';
import { checkInt, checkSignal } from '../internal/validate.js';
import { type ProxyOptions, resolveProxyOptions } from '../proxy/accept.js';
import { checkTlsServer, resolveTlsServer, TlsAcceptor, type TlsServerOptions } from '../tls/server.js';
import { type Endpoint, endpoint, unixEndpoint } from './endpoint.js';
import { type KeepAliveOptions, keepAliveSupport, normalizeKeepAlive } from './keepalive.js';
import { Listener } from './listener.js';
import { clearStaleSocket, streamTarget } from './unix.js';

/** ListenOptions tunes listen(). */
export interface ListenOptions {
  /**
   * network is tcp (default: dual-stack for an empty host), tcp4, tcp6
   * (IPv6 only) or unix (the address is a socket path; `unix:/path` says
   * the same in the address itself).
   */
  network?: string;
  /** backlog is the kernel's queue of connections not yet accepted by Node. */
  backlog?: number;
  /** maxPending caps connections ready but not yet taken by the program; beyond it new ones are reset. */
  maxPending?: number;
  /** keepAlive for accepted TCP connections; Go's default (15 s) when omitted. */
  keepAlive?: KeepAliveOptions;
  /** noDelay for accepted TCP connections; true by default, as in Go. */
  noDelay?: boolean;
  /** highWaterMark is how many unread bytes each accepted Conn buffers before pausing its socket. */
  highWaterMark?: number;
  /** proxy reads a PROXY protocol header from trusted peers, so connections report the real client (TCP only). */
  proxy?: ProxyOptions;
  /** tls runs a TLS handshake on every connection (after the PROXY header); `true` for an ephemeral certificate. */
  tls?: TlsServerOptions | boolean;
  /** socketMode sets a Unix socket's file permissions (`0o660`); by default the process umask decides. */
  socketMode?: number;
  /** signal closes the listener when aborted. */
  signal?: AbortSignal;
}

/**
 * BindOptions are the listen() options every netkit server takes when it
 * is given an address rather than a Listener: the network, the PROXY
 * protocol, TLS and a Unix socket's mode.
 */
export type BindOptions = Pick<ListenOptions, 'network' | 'proxy' | 'tls' | 'socketMode'>;

/**
 * listenFor is how a server gets its Listener (Go's `Serve(l)` model): the
 * one it was given, or a new one bound to `target` with `options`. `alpn`
 * is the protocol the server speaks over TLS (`http/1.1`), used unless
 * the options name their own.
 */
export async function listenFor(
  target: Listener | string,
  options: BindOptions & { signal?: AbortSignal | undefined },
  alpn?: readonly string[],
): Promise<Listener> {
  if (typeof target !== 'string') return target;
  let tls = options.tls;
  if (tls !== undefined && tls !== false && alpn !== undefined) {
    tls = tls === true ? { alpn } : { alpn, ...tls };
  }
  return listen(target, {
    ...(options.network !== undefined ? { network: options.network } : {}),
    ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(options.socketMode !== undefined ? { socketMode: options.socketMode } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** LISTEN_DEFAULTS are listen()'s defaults. */
export const LISTEN_DEFAULTS = Object.freeze({
  /** TCP on both families, as Go's "tcp". */
  network: 'tcp',
  /** Node's default; the kernel caps it at net.core.somaxconn. */
  backlog: 511,
  /** As many as the kernel backlog. */
  maxPending: 511,
  /** As in Go. */
  noDelay: true,
});

/**
 * listen binds `address` and resolves with a Listener: Go's syntax for TCP
 * (`:8080`, `127.0.0.1:0`, `[::1]:0`; port 0 picks a free port, read it
 * from `listener.addr`), or a Unix socket path (`unix:/run/app.sock`, or
 * `network: 'unix'`). A stale socket file left by a crashed server is
 * replaced; a file that is not a socket is never touched. Options are
 * checked before anything is bound. Rejects with NETKIT_LISTEN_FAILED (in
 * use, permission), NETKIT_INVALID_ARGUMENT, or an address error.
 */
export async function listen(address: string, options: ListenOptions = {}): Promise<Listener> {
  const target = streamTarget(options.network ?? LISTEN_DEFAULTS.network, address);
  const backlog = checkInt('backlog', options.backlog ?? LISTEN_DEFAULTS.backlog, 1, 65535);
  const maxPending = checkInt('maxPending', options.maxPending ?? LISTEN_DEFAULTS.maxPending, 0, 1_000_000);
  const keepAlive = normalizeKeepAlive('keepAlive', options.keepAlive);
  // Checked before binding, so a bad option leaves no port open.
  const proxy = resolveProxyOptions(options.proxy);
  checkTlsServer(options.tls);
  if (options.socketMode !== undefined) checkInt('socketMode', options.socketMode, 0, 0o777);
  if (target.path !== undefined) {
    if (proxy !== undefined) {
      throw new InvalidArgumentError('proxy', 'PROXY headers are trusted by peer IP; a Unix socket has none');
    }
    if (target.path === '')
      throw new InvalidArgumentError('address', 'a Unix socket needs a path (unix:/path)');
  } else if (options.socketMode !== undefined) {
    throw new InvalidArgumentError('socketMode', 'sets a Unix socket file mode; this is a TCP address');
  }
  const signal = checkSignal(options.signal);
  if (signal?.aborted) throw new AbortError('listen', signal.reason);
  // Loaded before binding: a listener that cannot set its keep-alive fails here, not per connection.
  if (target.path === undefined) await keepAliveSupport(keepAlive);
  const tls = await resolveTlsServer(options.tls);
  // Made before binding: whatever node:tls still refuses in the options must not leave the port bound.
  const acceptor = tls === undefined ? undefined : new TlsAcceptor(tls);
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
  let addr: Endpoint;
  if (target.path !== undefined) {
    await clearStaleSocket(target.path, address);
    await bind(server, { path: target.path, backlog }, 'unix', address, options.socketMode);
    addr = unixEndpoint(target.path);
  } else {
    const t = await resolveTCPAddr(target.network, target.address, { signal });
    const listenOpts: net.ListenOptions = { port: t.port, backlog };
    if (t.ip !== '') listenOpts.host = t.zone ? `${t.ip}%${t.zone}` : t.ip;
    else if (t.network === 'tcp4') listenOpts.host = '0.0.0.0';
    else if (t.network === 'tcp6') {
      listenOpts.host = '::';
      listenOpts.ipv6Only = true;
    }
    await bind(server, listenOpts, target.network, address);
    const a = server.address() as net.AddressInfo;
    addr = endpoint(a.address, a.port)!;
  }
  return new Listener(
    server,
    addr,
    {
      maxPending,
      noDelay: options.noDelay ?? LISTEN_DEFAULTS.noDelay,
      keepAlive: options.keepAlive,
      highWaterMark: options.highWaterMark,
      proxy,
      tls: acceptor,
    },
    signal,
  );
}

/**
 * bind listens and maps the failure to NETKIT_LISTEN_FAILED with Go's
 * wording. A Unix socket gets its `mode` through the umask while it is
 * created, so it is never open to others, even for an instant.
 */
function bind(
  server: net.Server,
  opts: net.ListenOptions,
  network: string,
  address: string,
  mode?: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const reason = bindErrorText(err, opts.port);
      reject(
        new ListenError('NETKIT_LISTEN_FAILED', `listen ${network} ${address}: ${reason}`, address, {
          cause: err,
        }),
      );
    });
    const listening = () => {
      server.removeAllListeners('error');
      resolve();
    };
    if (mode === undefined) {
      server.listen(opts, listening);
      return;
    }
    // Node binds a path synchronously inside listen(), so the umask applies to that file alone.
    const old = process.umask(0o777 & ~mode);
    try {
      server.listen(opts, listening);
    } finally {
      process.umask(old);
    }
  });
}
