/**
 * `netkit/addr`: network addresses with Go's rules and Go's error text —
 * splitting and joining `host:port`, ports and service names, network names,
 * and resolving addresses as `net.ResolveTCPAddr` / `net.ResolveUDPAddr` do.
 *
 * @module netkit/addr
 */
export { formatAddr, type NetAddr } from './netaddr.js';
export {
  ipVersion,
  isTCPNetwork,
  isUDPNetwork,
  parseTCPNetwork,
  parseUDPNetwork,
  type TCPNetwork,
  type UDPNetwork,
} from './network.js';
export { lookupPort, parsePort } from './port.js';
export {
  type Resolution,
  type ResolveCandidate,
  type ResolveOptions,
  resolveTCPAddr,
  resolveUDPAddr,
} from './resolve.js';
export { joinHostPort, splitHostPort } from './split.js';
