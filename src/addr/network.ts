/**
 * Network names (`tcp`, `tcp4`, `tcp6`, `udp`, `udp4`, `udp6`) and how Go
 * validates them in `net.ResolveTCPAddr` / `net.ResolveUDPAddr`.
 */
import { AddrError } from '../errors.js';

/** TCPNetwork is a network name accepted by resolveTCPAddr (after '' is defaulted). */
export type TCPNetwork = 'tcp' | 'tcp4' | 'tcp6';

/** UDPNetwork is a network name accepted by resolveUDPAddr (after '' is defaulted). */
export type UDPNetwork = 'udp' | 'udp4' | 'udp6';

/** isTCPNetwork reports whether `network` is exactly `tcp`, `tcp4` or `tcp6`. */
export function isTCPNetwork(network: string): network is TCPNetwork {
  return network === 'tcp' || network === 'tcp4' || network === 'tcp6';
}

/** isUDPNetwork reports whether `network` is exactly `udp`, `udp4` or `udp6`. */
export function isUDPNetwork(network: string): network is UDPNetwork {
  return network === 'udp' || network === 'udp4' || network === 'udp6';
}

/**
 * unknownNetwork builds the error for an unsupported network name, with the
 * text of Go's `UnknownNetworkError` ("unknown network tcp5").
 */
export function unknownNetwork(network: string): AddrError {
  return new AddrError('NETKIT_UNKNOWN_NETWORK', `unknown network ${network}`, network);
}

/**
 * parseTCPNetwork validates a network name for TCP. Like Go's
 * `ResolveTCPAddr`, '' is accepted as `tcp` ("a hint wildcard for Go 1.0
 * undocumented behavior"); names are case-sensitive (`TCP` is unknown).
 *
 * @throws {AddrError} `NETKIT_UNKNOWN_NETWORK` ("unknown network tcp5").
 */
export function parseTCPNetwork(network: string): TCPNetwork {
  if (network === '') return 'tcp';
  if (isTCPNetwork(network)) return network;
  throw unknownNetwork(network);
}

/**
 * parseUDPNetwork validates a network name for UDP. Like Go's
 * `ResolveUDPAddr`, '' is accepted as `udp`.
 *
 * @throws {AddrError} `NETKIT_UNKNOWN_NETWORK` ("unknown network udp5").
 */
export function parseUDPNetwork(network: string): UDPNetwork {
  if (network === '') return 'udp';
  if (isUDPNetwork(network)) return network;
  throw unknownNetwork(network);
}

/**
 * ipVersion is Go's `ipVersion`: 4 or 6 when the network name ends in that
 * digit (`tcp4`, `udp6`), else 0. Go uses it to filter resolved addresses.
 */
export function ipVersion(network: string): 4 | 6 | 0 {
  if (network.endsWith('4')) return 4;
  if (network.endsWith('6')) return 6;
  return 0;
}
