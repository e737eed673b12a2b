import type net from 'node:net';
import { InvalidArgumentError, ProxyError } from '../errors.js';
import { countAsOverhead } from '../internal/silent.js';
import { checkMs } from '../internal/validate.js';
import { parseProxyHeader, signatureState } from './parse.js';
import { type TrustList, toTrustList } from './trust.js';
import type { ProxyHeader } from './types.js';

/** ProxyOptions turn on the PROXY protocol for a server's connections. */
export interface ProxyOptions {
  /** trust lists the proxies (CIDR ranges) allowed to send a header. Required. */
  trust: TrustList | readonly string[];
  /** timeout closes a trusted connection whose header is not complete in time. Default 5 s. */
  timeout?: number;
}

/** ResolvedProxyOptions are ProxyOptions after validation. */
export interface ResolvedProxyOptions {
  /** trust is the validated list of proxies allowed to send a header. */
  trust: TrustList;
  /** timeout is how long a trusted peer has to send its whole header, in ms. */
  timeout: number;
}

/** resolveProxyOptions validates ProxyOptions up front (NETKIT_INVALID_ARGUMENT naming the option). */
export function resolveProxyOptions(o: ProxyOptions | undefined): ResolvedProxyOptions | undefined {
  if (o === undefined) return undefined;
  if (typeof o !== 'object' || o === null || o.trust === undefined) {
    throw new InvalidArgumentError(
      'proxy',
      'must be { trust: [CIDR…] }: the proxies allowed to send a header',
    );
  }
  return { trust: toTrustList(o.trust), timeout: checkMs('proxy.timeout', o.timeout ?? 5_000) };
}

/**
 * acceptProxied reads the PROXY header a trusted peer must send first and
 * makes the socket report the client's addresses (remoteAddress,
 * remotePort, remoteFamily, localAddress, localPort), so every server above
 * it — TCP, HTTP, WebSocket, RPC — sees the real client. Bytes that came
 * with the header are put back for the application. A peer outside the
 * trust list is left alone: its bytes, a header or not, are application
 * data (nothing is guessed). Rejects with ProxyError (the caller closes the
 * socket) for a missing or malformed header, or one not in by `timeout`.
 */
export function acceptProxied(socket: net.Socket, o: ResolvedProxyOptions): Promise<ProxyHeader | undefined> {
  // A socket reset before it was accepted has no peer address: it is neither trusted nor not.
  if (socket.remoteAddress === undefined) {
    return Promise.reject(new ProxyError('closed', 'proxy: the connection was gone before it was accepted'));
  }
  if (!o.trust.trusts(socket.remoteAddress)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err?: Error, header?: ProxyHeader) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      if (err) reject(err);
      else resolve(header);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      try {
        if (signatureState(buf) === 'none') {
          throw new ProxyError(
            'missing',
            `proxy: ${socket.remoteAddress} is a trusted proxy but sent no PROXY header`,
          );
        }
        const r = parseProxyHeader(buf);
        if (r === null) return;
        socket.pause();
        // The header is the proxy's, sent for every connection: it is not the client speaking.
        countAsOverhead(socket, r.length);
        const rest = buf.subarray(r.length);
        if (rest.length > 0) socket.unshift(rest);
        apply(socket, r.header);
        done(undefined, r.header);
      } catch (err) {
        done(err as Error);
      }
    };
    const onClose = () =>
      done(new ProxyError('closed', 'proxy: the connection closed before its PROXY header'));
    const timer =
      o.timeout > 0
        ? setTimeout(
            () => done(new ProxyError('timeout', `proxy: no complete PROXY header within ${o.timeout} ms`)),
            o.timeout,
          )
        : undefined;
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}

/** apply makes the socket report the addresses the header carries (PROXY command, inet or inet6 only). */
function apply(socket: net.Socket, h: ProxyHeader): void {
  if (h.command !== 'PROXY' || !h.source || !h.destination) return;
  if (h.family !== 'inet' && h.family !== 'inet6') return;
  const family = h.family === 'inet' ? 'IPv4' : 'IPv6';
  // Own properties shadow net.Socket's getters, so code reading the usual fields needs no change.
  Object.defineProperties(socket, {
    remoteAddress: { value: h.source.address, configurable: true },
    remotePort: { value: h.source.port, configurable: true },
    remoteFamily: { value: family, configurable: true },
    localAddress: { value: h.destination.address, configurable: true },
    localPort: { value: h.destination.port, configurable: true },
  });
  (socket as net.Socket & { proxyHeader?: ProxyHeader }).proxyHeader = h;
}

const PROXIED_FIELDS = [
  'remoteAddress',
  'remotePort',
  'remoteFamily',
  'localAddress',
  'localPort',
  'proxyHeader',
];

/**
 * inheritProxied gives a socket layered on `raw` (a TLS socket) the client
 * addresses a PROXY header set on `raw`, since the layer reads its
 * addresses from the kernel, not from `raw`'s fields.
 */
export function inheritProxied(raw: net.Socket, layered: net.Socket): void {
  for (const field of PROXIED_FIELDS) {
    const d = Object.getOwnPropertyDescriptor(raw, field);
    if (d !== undefined) Object.defineProperty(layered, field, d);
  }
}
