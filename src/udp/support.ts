/**
 * Helpers shared by bind.ts and datagram-socket.ts: error translation and
 * resolving a send() destination for a given socket type.
 */
import { isIP } from 'node:net';
import { resolveUDPAddr } from '../addr/index.js';
import { ConnectionError, InvalidArgumentError, NetkitError } from '../errors.js';
import { osErrorText } from '../internal/os-errors.js';
import { checkInt } from '../internal/validate.js';
import { endpoint } from '../tcp/endpoint.js';

/**
 * udpError turns a dgram error into a NetkitError. On a connected socket the
 * kernel reports an ICMP port-unreachable as ECONNREFUSED, which is the UDP
 * analogue of a reset; other failures (unreachable, no route) mean the
 * datagram could not get through, the meaning of NETKIT_DIAL_FAILED.
 */
export function udpError(err: unknown, op: string, address?: string): NetkitError {
  if (err instanceof NetkitError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const text = `${op}${address ? ` ${address}` : ''}: ${osErrorText(err)}`;
  if (code === 'ECONNREFUSED')
    return new ConnectionError('NETKIT_CONNECTION_RESET', text, address, { cause: err });
  return new ConnectionError('NETKIT_DIAL_FAILED', text, address, { cause: err });
}

/** closedError is the error for any use of a closed DatagramSocket. */
export const closedError = (): NetkitError =>
  new NetkitError('NETKIT_SOCKET_CLOSED', 'use of closed UDP socket');

/** Destination is where send() hands a datagram: `host` is in the socket's own family. */
export interface Destination {
  host: string;
  port: number;
  family: 4 | 6;
  address: string;
}

/**
 * resolveDestination resolves send()'s `to` for a socket of `type`.
 * `network` is udp4 / udp6 for single-family sockets and udp for a
 * dual-stack one, which reaches IPv4 peers through IPv4-mapped addresses
 * (libuv refuses an AF_INET address on an AF_INET6 socket).
 */
export async function resolveDestination(
  type: 'udp4' | 'udp6',
  network: 'udp' | 'udp4' | 'udp6',
  to: string | { ip: string; port: number },
): Promise<Destination> {
  let ip: string;
  let port: number;
  let zone = '';
  if (typeof to === 'string') {
    const r = await resolveUDPAddr(network, to);
    if (r.port === 0) throw new InvalidArgumentError('to', `port 0 is not a valid destination: ${to}`);
    // Go sends to the local system when the host is empty.
    ip = r.ip !== '' ? r.ip : network === 'udp6' ? '::1' : '127.0.0.1';
    port = r.port;
    zone = r.zone;
  } else if (to !== null && typeof to === 'object' && typeof to.ip === 'string' && isIP(to.ip) !== 0) {
    ip = to.ip;
    port = checkInt('to.port', to.port, 1, 65_535);
  } else {
    throw new InvalidArgumentError('to', "must be 'host:port' or { ip, port } with an IP address");
  }
  const ep = endpoint(ip, port, 'udp')!;
  if (ep.family === 6 && type === 'udp4') {
    throw new InvalidArgumentError('to', `cannot send to IPv6 address ${ep.address} from an IPv4 socket`);
  }
  if (ep.family === 4 && network === 'udp6') {
    throw new InvalidArgumentError(
      'to',
      `cannot send to IPv4 address ${ep.address} from an IPv6-only socket`,
    );
  }
  let host = ep.family === 4 && type === 'udp6' ? `::ffff:${ep.ip}` : ep.ip;
  if (zone !== '') host += `%${zone}`;
  return { host, port, family: ep.family, address: ep.address };
}
