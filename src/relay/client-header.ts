import net from 'node:net';
import { buildProxyHeaderV1, buildProxyHeaderV2 } from '../proxy/build.js';

/** SendProxy is the PROXY protocol version a relay puts in front of each target connection. */
export type SendProxy = 'v1' | 'v2';

/** ClientAddress is where a relayed connection came from and what it dialled. */
export interface ClientAddress {
  address?: string | undefined;
  port?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

/**
 * proxyHeader builds the PROXY header that tells a target who the client
 * is, as HAProxy's `send-proxy` / `send-proxy-v2` do: source is the
 * client, destination the address it connected to. A client that is not
 * TCP (a Unix socket, stdin) is sent as "PROXY UNKNOWN" (v1) or the v2
 * LOCAL command, which servers read as "use the connection's own
 * addresses". IPv4-mapped IPv6 addresses go as IPv4, link-local ones
 * without their zone.
 */
export function proxyHeader(version: SendProxy, c: ClientAddress): Buffer {
  const src = plain(c.address);
  const dst = plain(c.localAddress);
  const family =
    src !== undefined && dst !== undefined && net.isIP(src) === net.isIP(dst) ? net.isIP(src) : 0;
  if (family === 0 || c.port === undefined || c.localPort === undefined) {
    return version === 'v1'
      ? buildProxyHeaderV1({ family: 'unspec' })
      : buildProxyHeaderV2({ command: 'LOCAL' });
  }
  const source = { address: src as string, port: c.port };
  const destination = { address: dst as string, port: c.localPort };
  const fam = family === 4 ? 'inet' : 'inet6';
  return version === 'v1'
    ? buildProxyHeaderV1({ family: fam, source, destination })
    : buildProxyHeaderV2({ command: 'PROXY', family: fam, transport: 'stream', source, destination });
}

function plain(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  // The header has no room for a zone (`fe80::1%eth0`); HAProxy sends the bare address too. Left in, it
  // would make the builder throw for every target, and the relay would eject them all for one client.
  const zone = address.indexOf('%');
  const ip = zone >= 0 ? address.slice(0, zone) : address;
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}
