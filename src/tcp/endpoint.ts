/** Endpoint is one end of a TCP connection or a listener's bound address. */
export interface Endpoint {
  /** ip is the textual IP address (IPv4-mapped IPv6 addresses are shown as IPv4, as Go does). */
  readonly ip: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** address is Go's `TCPAddr.String()`: `127.0.0.1:80`, `[::1]:80`. */
  readonly address: string;
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** endpoint builds an Endpoint from what a Node socket reports; undefined when it reports nothing (closed). */
export function endpoint(ip: string | undefined, port: number | undefined): Endpoint | undefined {
  if (ip === undefined || port === undefined) return undefined;
  // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; Go prints them as a.b.c.d.
  const mapped = ip.length > 7 && ip.charCodeAt(0) === 0x3a ? MAPPED.exec(ip) : null;
  const plain = mapped ? mapped[1]! : ip;
  // Node only reports IP literals here, and only IPv6 ones contain ':' (cheaper
  // than net.isIPv6's regular expression, which UDP would run per datagram).
  const v6 = plain.includes(':');
  return Object.freeze({
    ip: plain,
    port,
    family: v6 ? 6 : 4,
    address: v6 ? `[${plain}]:${port}` : `${plain}:${port}`,
  });
}
