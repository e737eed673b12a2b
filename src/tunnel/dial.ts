import net from 'node:net';
import { domainToASCII } from 'node:url';
import { type ResolveOptions, resolveTCPAddr, splitHostPort } from '../addr/index.js';
import { AbortError, ConnectionError, InvalidArgumentError, TimeoutError } from '../errors.js';
import { connectSocket } from '../internal/connect.js';
import { osErrorText } from '../internal/os-errors.js';
import { checkInt, checkMs, checkSignal } from '../internal/validate.js';
import { httpConnect } from './http-connect.js';
import { type ProxyInput, type ProxySpec, parseProxyUrl } from './proxy-url.js';
import { ReplyReader } from './reply-reader.js';
import { socks5Connect } from './socks5.js';

/** OpenTunnelOptions tune openTunnel(). */
export interface OpenTunnelOptions {
  /** signal stops the handshake: the socket is destroyed and the promise rejects with its reason. */
  signal?: AbortSignal;
  /**
   * maxReplyBytes bounds an HTTP proxy's reply head (status line and
   * headers); a longer one is NETKIT_TUNNEL_PROTOCOL. Default 16 KiB, as
   * Node's own HTTP parser allows. A SOCKS5 reply is at most 262 bytes.
   */
  maxReplyBytes?: number;
  /** network (tcp, tcp4, tcp6) picks the family when a socks5:// proxy's target name is resolved here. */
  network?: string;
  /** lookup replaces the system resolver for a socks5:// proxy's target name. */
  lookup?: ResolveOptions['lookup'];
}

/** DialTunnelOptions tune dialTunnel(). Durations are milliseconds. */
export interface DialTunnelOptions extends OpenTunnelOptions {
  /** timeout bounds connecting to the proxy and its handshake together; 0 means none. Default 30 s. */
  timeout?: number;
  /**
   * connect makes the TCP connection to the proxy (dial() passes its own:
   * keep-alive, local address, Happy Eyeballs). By default net.connect.
   */
  connect?: (host: string, port: number, signal: AbortSignal) => Promise<net.Socket>;
}

/** TUNNEL_DEFAULTS are dialTunnel()'s and openTunnel()'s defaults. */
export const TUNNEL_DEFAULTS = Object.freeze({
  /** timeout is 30 s for connecting to the proxy and its handshake together. */
  timeout: 30_000,
  /** maxReplyBytes is 16 KiB for an HTTP proxy's reply head, as Node's HTTP parser allows. */
  maxReplyBytes: 16 * 1024,
});

/**
 * dialTunnel connects to the forward proxy `proxy` (a URL: `http://`,
 * `socks5://`, `socks5h://`, with `user:password@` if it needs them) and
 * asks it for a tunnel to `target` (`host:port`). It resolves with the
 * connected socket carrying the tunnel, paused as a fresh socket is, with
 * any bytes the proxy sent right behind its reply kept for the first read.
 * (One case cannot be kept: a target that closed without a byte, its FIN
 * arriving with the proxy's reply, has its 'end' emitted during the
 * handshake; a reader attaching later finds `readableEnded` true. dial()'s
 * Conn attaches at once and sees it.)
 * Rejects with NETKIT_DIAL_FAILED (the proxy cannot be reached),
 * NETKIT_TUNNEL_FAILED / NETKIT_TUNNEL_AUTH / NETKIT_TUNNEL_PROTOCOL (see
 * openTunnel), NETKIT_CONNECT_TIMEOUT, NETKIT_ABORTED, or an address error.
 */
export async function dialTunnel(
  proxy: ProxyInput,
  target: string,
  options: DialTunnelOptions = {},
): Promise<net.Socket> {
  const spec = parseProxyUrl(proxy);
  const timeout = checkMs('timeout', options.timeout ?? TUNNEL_DEFAULTS.timeout);
  const signal = checkSignal(options.signal);
  checkTarget(target);
  const controller = new AbortController();
  const onAbort = () =>
    controller.abort(new AbortError(`tunnel to ${target} through ${spec.href}`, signal?.reason));
  if (signal?.aborted) throw new AbortError(`tunnel to ${target} through ${spec.href}`, signal.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeout > 0
      ? setTimeout(
          () =>
            controller.abort(
              new TimeoutError(
                'NETKIT_CONNECT_TIMEOUT',
                'tunnel',
                `tunnel to ${target} through ${spec.href}: not open within ${timeout} ms; check that the proxy is up and answers, or raise the timeout`,
                timeout,
              ),
            ),
          timeout,
        )
      : undefined;
  try {
    const connect = options.connect ?? connectPlain;
    const socket = await connect(spec.host, spec.port, controller.signal).catch((err: unknown) => {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw proxyDialError(spec, err);
    });
    return await openTunnel(socket, spec, target, { ...options, signal: controller.signal });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * openTunnel runs the proxy's handshake on `socket`, already connected to
 * the proxy, for a tunnel to `target` (`host:port`), and resolves with the
 * same socket once the tunnel is open (see dialTunnel). For `socks5://`
 * the target's name is resolved here and the proxy gets an address; for
 * `socks5h://` and `http://` the proxy gets the name. On failure the
 * socket is destroyed and the promise rejects with a TunnelError
 * (NETKIT_TUNNEL_FAILED with the HTTP `status` or SOCKS5 `reply`,
 * NETKIT_TUNNEL_AUTH, NETKIT_TUNNEL_PROTOCOL), an address error from the
 * lookup, or the signal's reason.
 */
export async function openTunnel(
  socket: net.Socket,
  proxy: ProxyInput,
  target: string,
  options: OpenTunnelOptions = {},
): Promise<net.Socket> {
  const spec = parseProxyUrl(proxy);
  const signal = checkSignal(options.signal);
  const maxReplyBytes = checkInt(
    'maxReplyBytes',
    options.maxReplyBytes ?? TUNNEL_DEFAULTS.maxReplyBytes,
    64,
    1 << 24,
  );
  const { host, port } = checkTarget(target);
  const reader = new ReplyReader(socket);
  const onAbort = () => socket.destroy(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    if (spec.scheme === 'http') {
      // The CONNECT line is ASCII: a name beyond it goes as its IDNA (punycode) form, as a URL's
      // host does; written as latin1 it would be garbled into another host (例え.jp as H.jp).
      const name = isAscii(host) ? host : domainToASCII(host);
      await httpConnect(
        socket,
        reader,
        spec,
        net.isIPv6(name) ? `[${name}]:${port}` : `${name}:${port}`,
        maxReplyBytes,
      );
    } else {
      let address = host;
      if (spec.scheme === 'socks5' && net.isIP(host) === 0) {
        // socks5:// is curl's "resolve locally": the proxy is given an address, never the name.
        const r = await resolveTCPAddr(options.network ?? 'tcp', `${host}:${port}`, {
          ...(signal ? { signal } : {}),
          ...(options.lookup ? { lookup: options.lookup } : {}),
        });
        address = r.ip;
      }
      await socks5Connect(socket, reader, spec, address, port);
    }
    reader.release();
    return socket;
  } catch (err) {
    reader.release();
    socket.destroy();
    throw signal?.aborted ? signal.reason : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** checkTarget splits and checks a tunnel's `host:port`: a host is needed, and a numeric port. */
function checkTarget(target: string): { host: string; port: number } {
  if (typeof target !== 'string') throw new InvalidArgumentError('target', 'must be a host:port string');
  const { host, port: portText } = splitHostPort(target);
  const port = Number(portText);
  if (host === '')
    throw new InvalidArgumentError('target', `${JSON.stringify(target)}: a proxy needs a host to connect to`);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(
      'target',
      `${JSON.stringify(target)}: the port must be a number from 1 to 65535`,
    );
  }
  // The host goes into the CONNECT request line and Host header as it is: a CR, LF or space
  // in it would let a caller's input write extra lines, or a second request, to the proxy.
  if (/[\x00-\x20\x7f]/.test(host)) {
    throw new InvalidArgumentError(
      'target',
      `${JSON.stringify(target)}: the host holds a space or control character`,
    );
  }
  if (!isAscii(host) && domainToASCII(host) === '') {
    throw new InvalidArgumentError(
      'target',
      `${JSON.stringify(target)}: the host is not a valid domain name`,
    );
  }
  if (Buffer.byteLength(host) > 255) {
    throw new InvalidArgumentError('target', 'the host name is over 255 bytes');
  }
  return { host: host.replace(/%.*$/, ''), port };
}

function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/** proxyDialError says that the proxy, not the target, could not be reached. */
export function proxyDialError(spec: ProxySpec, err: unknown): Error {
  if (
    err instanceof Error &&
    'code' in err &&
    String((err as { code: unknown }).code).startsWith('NETKIT_')
  ) {
    return err;
  }
  const where = `${net.isIPv6(spec.host) ? `[${spec.host}]` : spec.host}:${spec.port}`;
  return new ConnectionError(
    'NETKIT_DIAL_FAILED',
    `dial proxy ${spec.href}: ${osErrorText(err as NodeJS.ErrnoException)}`,
    where,
    { cause: err },
  );
}

/** connectPlain is dialTunnel's default connect: net.connect, half-open as netkit's sockets are, without Nagle. */
async function connectPlain(host: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  const socket = await connectSocket({ host, port }, signal);
  socket.setNoDelay(true);
  return socket;
}
