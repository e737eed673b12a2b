/**
 * `host:port` splitting and joining with Go's exact rules and error text
 * (Go's `net.SplitHostPort` and `net.JoinHostPort` in net/ipsock.go).
 */
import { addrError } from './goerror.js';

const MISSING_PORT = 'missing port in address';
const TOO_MANY_COLONS = 'too many colons in address';

/**
 * splitHostPort splits `host:port`, `host%zone:port`, `[host]:port` or
 * `[host%zone]:port` into host (with its zone, without brackets) and port,
 * exactly as Go's `net.SplitHostPort` does.
 *
 * The port is the text after the last ':' and is not validated here; it may
 * be empty or a service name. The host is not validated either: `[a]:1`
 * gives host `a`, and `:80` gives host ''.
 *
 * @throws {AddrError} `NETKIT_MISSING_PORT` ("address 1.2.3.4: missing port
 * in address"; just "missing port in address" for '', as in Go) or `NETKIT_ADDR_SYNTAX` ("too many colons in address",
 * "missing ']' in address", "unexpected '[' in address", "unexpected ']' in
 * address"), with Go's message text and `addr` set to the input.
 */
export function splitHostPort(hostport: string): {
  /** The host, without brackets; '' in `:80`. */
  host: string;
  /** The text after the last ':', unvalidated: it may be '' or a service name. */
  port: string;
} {
  // The port starts after the last colon.
  const i = hostport.lastIndexOf(':');
  if (i < 0) throw addrError('NETKIT_MISSING_PORT', hostport, MISSING_PORT);

  let host: string;
  let j = 0;
  let k = 0;
  if (hostport.charCodeAt(0) === 0x5b /* [ */) {
    // Go expects the first ']' just before the last ':'.
    const end = hostport.indexOf(']');
    if (end < 0) throw addrError('NETKIT_ADDR_SYNTAX', hostport, "missing ']' in address");
    if (end + 1 === hostport.length) {
      // There can't be a ':' behind the ']' now.
      throw addrError('NETKIT_MISSING_PORT', hostport, MISSING_PORT);
    }
    if (end + 1 !== i) {
      // Either ']' isn't followed by a colon, or it is followed by a colon
      // that is not the last one; Go words the two cases differently.
      if (hostport.charCodeAt(end + 1) === 0x3a /* : */) {
        throw addrError('NETKIT_ADDR_SYNTAX', hostport, TOO_MANY_COLONS);
      }
      throw addrError('NETKIT_MISSING_PORT', hostport, MISSING_PORT);
    }
    host = hostport.slice(1, end);
    j = 1; // there can't be a '[' before this position
    k = end + 1; // ...nor a ']' before this one
  } else {
    host = hostport.slice(0, i);
    // An unbracketed IPv6 literal ("::1:80") is ambiguous, so Go rejects it.
    if (host.includes(':')) throw addrError('NETKIT_ADDR_SYNTAX', hostport, TOO_MANY_COLONS);
  }
  if (hostport.indexOf('[', j) >= 0) {
    throw addrError('NETKIT_ADDR_SYNTAX', hostport, "unexpected '[' in address");
  }
  if (hostport.indexOf(']', k) >= 0) {
    throw addrError('NETKIT_ADDR_SYNTAX', hostport, "unexpected ']' in address");
  }
  return { host, port: hostport.slice(i + 1) };
}

/**
 * joinHostPort combines host and port into `host:port`, bracketing the host
 * when it contains a ':' (a literal IPv6 address, possibly with `%zone`), as
 * Go's `net.JoinHostPort` does. Like Go, it validates nothing: a host that
 * already has brackets gets a second pair.
 */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
