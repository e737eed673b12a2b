/**
 * Port numbers and service names with Go's rules: Go's `parsePort`
 * (net/port.go), `lookupPortMap` (net/lookup.go) and `Resolver.LookupPort`.
 */
import { addrError } from './goerror.js';
import { type ServicesMap, services } from './services.js';

/** MAX_PORT_BUF_SIZE is Go's `maxPortBufSize`: longer names never match. */
const MAX_PORT_BUF_SIZE = 'mobility-header'.length + 10;

const CUTOFF = 2 ** 30; // Go's cutoff, uint32(1 << 30)
const MAX_U32 = 2 ** 32 - 1; // Go's max, uint32(1<<32 - 1)

/**
 * parsePort is Go's `parsePort`: it reads `service` as an optionally signed
 * decimal number, or reports `needsLookup` when any character is not a digit
 * (the caller then treats it as a service name).
 *
 * Go's quirks are kept on purpose, since they decide which inputs are valid:
 * - '' is port 0 (golang.org/issue/13610), and so are a lone '+' or '-';
 * - one leading '+' or '-' is allowed (`+80` is 80, `-0` is 0);
 * - magnitudes at or above 1<<30 are clamped to 1<<30 - 1 (or -(1<<30)) so
 *   that huge numbers are reported as invalid rather than wrapping;
 * - but Go multiplies in uint32 before it checks, so some 10-digit numbers
 *   wrap instead: `4294967300` parses as 4 (Go 1.19 behaviour, matched).
 *
 * The result is not range-checked; lookupPort rejects values outside 0-65535.
 */
export function parsePort(service: string): {
  /** The number parsed, not range-checked. */
  port: number;
  /** True when `service` is not a number and must be looked up as a service name. */
  needsLookup: boolean;
} {
  if (service === '') return { port: 0, needsLookup: false };
  let neg = false;
  if (service.charCodeAt(0) === 0x2b /* + */) {
    service = service.slice(1);
  } else if (service.charCodeAt(0) === 0x2d /* - */) {
    neg = true;
    service = service.slice(1);
  }
  let n = 0; // a uint32, as in Go
  for (let i = 0; i < service.length; i++) {
    const c = service.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return { port: 0, needsLookup: true };
    if (n >= CUTOFF) {
      n = MAX_U32;
      break;
    }
    n = (n * 10) >>> 0; // uint32 multiply: wraps like Go's
    const nn = (n + (c - 0x30)) >>> 0;
    if (nn < n) {
      n = MAX_U32;
      break;
    }
    n = nn;
  }
  let port: number;
  if (!neg && n >= CUTOFF) port = CUTOFF - 1;
  else if (neg && n > CUTOFF) port = CUTOFF;
  else port = n;
  // Keep -0 out of results: Go's ints have no negative zero.
  return { port: neg && port !== 0 ? -port : port, needsLookup: false };
}

function lowerASCII(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * lookupPortMap is Go's `lookupPortMap`: `tcp4`/`tcp6` look in `tcp`,
 * `udp4`/`udp6` in `udp`; the name is lowercased (ASCII only) before the
 * lookup, which makes `HTTP` work; names longer than 25 bytes never match.
 *
 * @throws {AddrError} `NETKIT_UNKNOWN_PORT` ("address tcp/foo: unknown port").
 */
export function lookupPortMap(map: ServicesMap, network: string, service: string): number {
  if (network === 'tcp4' || network === 'tcp6') network = 'tcp';
  else if (network === 'udp4' || network === 'udp6') network = 'udp';
  const m = map.get(network);
  if (m && Buffer.byteLength(service, 'utf8') <= MAX_PORT_BUF_SIZE) {
    const port = m.get(lowerASCII(service));
    if (port !== undefined) return port;
  }
  throw addrError('NETKIT_UNKNOWN_PORT', `${network}/${service}`, 'unknown port');
}

/**
 * lookupPort is Go's `net.LookupPort`: a numeric `service` (see parsePort) is
 * used as is; anything else is looked up in Go's built-in service map plus
 * /etc/services (read once per process, then cached). '' is port 0.
 *
 * As in Go, `network` is only checked when a name must be looked up: '' then
 * means `ip`, and a name other than tcp/tcp4/tcp6/udp/udp4/udp6 fails.
 *
 * @throws {AddrError} `NETKIT_INVALID_PORT` ("address 65536: invalid port"),
 * `NETKIT_UNKNOWN_PORT` ("address tcp/nope: unknown port") or
 * `NETKIT_UNKNOWN_NETWORK` ("address tcp5: unknown network").
 */
export async function lookupPort(network: string, service: string): Promise<number> {
  let { port, needsLookup } = parsePort(service);
  if (needsLookup) {
    if (network === '') {
      network = 'ip'; // Go: "a hint wildcard for Go 1.0 undocumented behavior"
    } else if (!/^(?:tcp|udp)[46]?$/.test(network)) {
      throw addrError('NETKIT_UNKNOWN_NETWORK', network, 'unknown network');
    }
    port = lookupPortMap(await services(), network, service);
  }
  if (port < 0 || port > 65535) throw addrError('NETKIT_INVALID_PORT', service, 'invalid port');
  return port;
}
