/**
 * bind() and dial(): resolve the address with Go's rules, create the
 * `node:dgram` socket of the right family, and wrap it in a DatagramSocket.
 */
import { createSocket, type Socket, type SocketType } from 'node:dgram';
import { parseUDPNetwork, resolveUDPAddr } from '../addr/index.js';
import { AbortError, InvalidArgumentError, ListenError, type NetkitError } from '../errors.js';
import { bindErrorText } from '../internal/os-errors.js';
import { checkInt, checkObject, checkSignal, checkString } from '../internal/validate.js';
import { endpoint } from '../tcp/endpoint.js';
import { DatagramSocket, type UdpOptions } from './datagram-socket.js';
import { DEFAULT_MAX_QUEUE, MAX_UDP_PAYLOAD_V6 } from './limits.js';
import { udpError } from './support.js';

interface Checked {
  network: 'udp' | 'udp4' | 'udp6';
  signal: AbortSignal | undefined;
  maxQueue: number;
  maxDatagramBytes: number | undefined;
}

/** checkOptions validates everything before any socket exists, so a bad option leaks nothing. */
function checkOptions(address: unknown, options: UdpOptions, op: string): Checked {
  checkString('address', address);
  checkObject('options', options, true);
  if (options.network !== undefined && typeof options.network !== 'string') {
    throw new InvalidArgumentError('network', 'must be udp, udp4 or udp6');
  }
  const network = parseUDPNetwork(options.network ?? 'udp');
  const signal = checkSignal(options.signal);
  const maxQueue =
    options.maxQueue === undefined ? DEFAULT_MAX_QUEUE : checkInt('maxQueue', options.maxQueue, 1, 1_048_576);
  const maxDatagramBytes =
    options.maxDatagramBytes === undefined
      ? undefined
      : checkInt('maxDatagramBytes', options.maxDatagramBytes, 0, MAX_UDP_PAYLOAD_V6);
  if (signal?.aborted) throw new AbortError(op, signal.reason);
  return { network, signal, maxQueue, maxDatagramBytes };
}

/**
 * settle runs `start` (which must eventually emit 'listening' or 'connect' or
 * 'error'), closing the socket and rejecting on failure or abort.
 */
function settle(
  socket: Socket,
  start: (done: (err?: Error | null) => void) => void,
  signal: AbortSignal | undefined,
  op: string,
  fail: (err: unknown) => NetkitError,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: unknown) => {
      socket.off('error', finish);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined || err === null) return resolve();
      try {
        socket.close();
      } catch {
        // Not yet bound or already closed: nothing to release.
      }
      reject(err instanceof AbortError ? err : fail(err));
    };
    const onAbort = () => finish(new AbortError(op, signal?.reason));
    socket.on('error', finish);
    signal?.addEventListener('abort', onAbort, { once: true });
    start(finish);
  });
}

/**
 * bind creates a UDP socket bound to `address` ('host:port'; ':0',
 * '127.0.0.1:0', '[::1]:0'). An empty host binds every address: for `udp`
 * the dual-stack '::' (IPv4 peers appear as IPv4), for `udp4` 0.0.0.0, for
 * `udp6` '::' IPv6-only. Send with an explicit destination; every peer's
 * datagrams arrive.
 *
 * @throws {AddrError} for a bad address or network, {InvalidArgumentError}
 * for a bad option, {ListenError} NETKIT_LISTEN_FAILED when the bind fails,
 * {AbortError} when `options.signal` aborts first.
 */
export async function bind(address: string, options: UdpOptions = {}): Promise<DatagramSocket> {
  const o = checkOptions(address, options, 'bind');
  const r = await resolveUDPAddr(o.network, address, { signal: o.signal });
  let type: SocketType;
  let host: string;
  let ipv6Only = false;
  if (r.ip === '') {
    type = o.network === 'udp4' ? 'udp4' : 'udp6';
    host = o.network === 'udp4' ? '0.0.0.0' : '::';
    ipv6Only = o.network === 'udp6';
  } else {
    type = r.family === 4 ? 'udp4' : 'udp6';
    host = r.zone === '' ? r.ip : `${r.ip}%${r.zone}`;
    ipv6Only = o.network === 'udp6';
  }
  const socket = createSocket({ type, ipv6Only });
  await settle(
    socket,
    (done) => socket.bind(r.port, host, () => done()),
    o.signal,
    'bind',
    (err) => {
      const text = `listen udp ${address}: ${bindErrorText(err, r.port)}`;
      return new ListenError('NETKIT_LISTEN_FAILED', text, address, { cause: err });
    },
  );
  // Only the dual-stack '::' may reach IPv4 peers; a socket bound to one
  // IPv6 address resolves destinations as IPv6.
  const dualStack = type === 'udp6' && !ipv6Only && (host === '::' || r.ip === '::');
  const network = type === 'udp4' ? 'udp4' : dualStack ? 'udp' : 'udp6';
  return new DatagramSocket(socket, { ...o, network, type, remote: undefined });
}

/**
 * dial creates a UDP socket connected to `address`: send() takes no
 * destination, only the peer's datagrams arrive, and an ICMP
 * port-unreachable surfaces as NETKIT_CONNECTION_RESET on receive(). An
 * empty host dials the local system (127.0.0.1, or ::1 for `udp6`), as Go does.
 *
 * @throws {AddrError} for a bad address or network, {InvalidArgumentError}
 * for a bad option, {ConnectionError} NETKIT_DIAL_FAILED when connect fails,
 * {AbortError} when `options.signal` aborts first.
 */
export async function dial(address: string, options: UdpOptions = {}): Promise<DatagramSocket> {
  const o = checkOptions(address, options, 'dial');
  const r = await resolveUDPAddr(o.network, address, { signal: o.signal });
  if (r.port === 0)
    throw new InvalidArgumentError('address', `port 0 is not a valid destination: ${address}`);
  const ip = r.ip !== '' ? r.ip : o.network === 'udp6' ? '::1' : '127.0.0.1';
  const family = r.ip !== '' ? r.family : o.network === 'udp6' ? 6 : 4;
  const type: SocketType = family === 4 ? 'udp4' : 'udp6';
  const host = r.zone === '' ? ip : `${ip}%${r.zone}`;
  const socket = createSocket({ type });
  await settle(
    socket,
    (done) => socket.connect(r.port, host, done),
    o.signal,
    'dial',
    (err) => udpError(err, 'dial udp', address),
  );
  const peer = socket.remoteAddress();
  const remote = endpoint(peer.address, peer.port, 'udp')!;
  return new DatagramSocket(socket, { ...o, network: type, type, remote });
}
