import { joinHostPort } from '../addr/split.js';

/** IpEndpoint is an IP address and port: Go's `TCPAddr` or `UDPAddr`. */
export interface IpEndpoint {
  /** network is `tcp` or `udp`. */
  readonly network: 'tcp' | 'udp';
  /** ip is the textual IP address (IPv4-mapped IPv6 addresses are shown as IPv4, as Go does). */
  readonly ip: string;
  /** port is the port number. */
  readonly port: number;
  /** family is 4 or 6, after an IPv4-mapped IPv6 address is shown as IPv4. */
  readonly family: 4 | 6;
  /** address is Go's `TCPAddr.String()`: `127.0.0.1:80`, `[::1]:80`. */
  readonly address: string;
}

/** UnixEndpoint is a Unix domain socket's path: Go's `UnixAddr`. ip, port and family are empty. */
export interface UnixEndpoint {
  /** network is always `unix`. */
  readonly network: 'unix';
  /** ip is empty: a Unix socket has no IP address. */
  readonly ip: '';
  /** port is 0: a Unix socket has no port. */
  readonly port: 0;
  /** family is 0: neither IPv4 nor IPv6. */
  readonly family: 0;
  /** address is the socket's path (`@` for the unnamed client end, as Linux tools show it). */
  readonly address: string;
}

/** Endpoint is one end of a stream connection or a listener's bound address: TCP or Unix. */
export type Endpoint = IpEndpoint | UnixEndpoint;

/** unixEndpoint is the Endpoint of a Unix domain socket at `path` (unnamed: `@`). */
export function unixEndpoint(path: string | undefined): UnixEndpoint {
  return Object.freeze({ network: 'unix', ip: '', port: 0, family: 0, address: path || '@' });
}

/** endpointText is how logs show an endpoint: its address, `unix:` before a socket path. */
export function endpointText(e: Endpoint | undefined): string {
  if (e === undefined) return '';
  return e.network === 'unix' ? `unix:${e.address}` : e.address;
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * unmappedIp is an IP as Go prints it: a dual-stack listener reports IPv4
 * peers as ::ffff:a.b.c.d, which this returns as a.b.c.d; others unchanged.
 */
export function unmappedIp(ip: string): string {
  const mapped = ip.length > 7 && ip.charCodeAt(0) === 0x3a ? MAPPED.exec(ip) : null;
  return mapped ? mapped[1]! : ip;
}

/** endpoint builds an Endpoint from what a Node socket reports; undefined when it reports nothing (closed). */
export function endpoint(
  ip: string | undefined,
  port: number | undefined,
  network: 'tcp' | 'udp' = 'tcp',
): IpEndpoint | undefined {
  if (ip === undefined || port === undefined) return undefined;
  const plain = unmappedIp(ip);
  // Node only reports IP literals here, and only IPv6 ones contain ':' (cheaper
  // than net.isIPv6's regular expression, which UDP would run per datagram).
  const v6 = plain.includes(':');
  return Object.freeze({
    network,
    ip: plain,
    port,
    family: v6 ? 6 : 4,
    address: joinHostPort(plain, port),
  });
}

/**
 * peerEndpoint is the far end of an accepted `socket`: on a Unix socket
 * (`unix`) the client's unnamed end, `@`, since it has no address of its
 * own; else its IP and port, undefined once a closed socket reports none.
 * Show it with endpointText, never by joining remoteAddress and remotePort
 * by hand (which prints `undefined:undefined` for a Unix peer).
 */
export function peerEndpoint(
  socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined },
  unix: boolean,
): Endpoint | undefined {
  return unix ? unixEndpoint(undefined) : endpoint(socket.remoteAddress, socket.remotePort);
}
