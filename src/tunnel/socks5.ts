import net from 'node:net';
import { TunnelError } from '../errors.js';
import type { ProxySpec } from './proxy-url.js';
import type { ReplyReader } from './reply-reader.js';

/**
 * The SOCKS5 client handshake: method negotiation and CONNECT (RFC 1928),
 * with username/password authentication (RFC 1929) when the proxy URL has
 * credentials. Every reply has a fixed shape and at most 262 bytes, so the
 * reader asks for exact counts and a proxy sending garbage is caught at its
 * first wrong byte.
 */

const VERSION = 0x05;
const METHOD_NONE = 0x00;
const METHOD_PASSWORD = 0x02;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** SOCKS5_REPLIES says what each RFC 1928 reply code (section 6) means, from the client's side. */
export const SOCKS5_REPLIES: Readonly<Record<number, string>> = Object.freeze({
  1: 'general SOCKS server failure',
  2: "connection not allowed by the proxy's rules",
  3: 'network unreachable, as seen by the proxy',
  4: 'host unreachable (or its name did not resolve), as seen by the proxy',
  5: 'connection refused by the target, as seen by the proxy',
  6: 'TTL expired (the proxy timed out reaching the target)',
  7: 'command not supported by the proxy',
  8: 'address type not supported by the proxy',
});

/** socks5Meaning is a reply code in words. */
export function socks5Meaning(reply: number): string {
  return SOCKS5_REPLIES[reply] ?? `unassigned reply code 0x${hex(reply)}`;
}

/**
 * socks5Connect runs the SOCKS5 handshake on `socket` for `host`:`port`.
 * `host` is sent as the proxy got it: an IP literal as an address, a name
 * as a domain name (ATYP 3) for the proxy to resolve (socks5h). Resolves
 * once the proxy answered success; rejects with TunnelError:
 * NETKIT_TUNNEL_AUTH (no acceptable method, credentials refused),
 * NETKIT_TUNNEL_FAILED (a reply code, in `reply`), NETKIT_TUNNEL_PROTOCOL
 * (a malformed or cut-short reply).
 */
export async function socks5Connect(
  socket: net.Socket,
  reader: ReplyReader,
  proxy: ProxySpec,
  host: string,
  port: number,
): Promise<void> {
  const target = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  const where = `proxy ${proxy.href}`;
  const details = { proxy: proxy.href, target };
  const malformed = (what: string) =>
    new TunnelError(
      'NETKIT_TUNNEL_PROTOCOL',
      `${where}: ${what}; check that this is a SOCKS5 proxy`,
      details,
    );
  const closed = (stage: string) => (received: Buffer) =>
    new TunnelError(
      'NETKIT_TUNNEL_PROTOCOL',
      `${where}: closed the connection ${received.length === 0 ? 'without answering' : `in the middle of its reply (after ${received.length} bytes)`} ${stage}`,
      details,
    );

  // Greeting: offer username/password only when we have them, as curl does.
  const auth = proxy.username !== undefined;
  socket.write(Buffer.from(auth ? [VERSION, 2, METHOD_NONE, METHOD_PASSWORD] : [VERSION, 1, METHOD_NONE]));
  const choice = await reader.exactly(2, closed('the greeting'));
  if (choice[0] !== VERSION) {
    throw malformed(`answered the SOCKS5 greeting with version byte 0x${hex(choice[0]!)}, not 0x05`);
  }
  const method = choice[1]!;
  if (
    method === NO_ACCEPTABLE ||
    (method === METHOD_PASSWORD && !auth) ||
    (method !== METHOD_NONE && method !== METHOD_PASSWORD)
  ) {
    throw new TunnelError(
      'NETKIT_TUNNEL_AUTH',
      method === NO_ACCEPTABLE || method === METHOD_PASSWORD
        ? `${where}: accepts none of the authentication methods offered (${auth ? 'none, username/password' : 'none'}); ${auth ? 'it may want another method (GSSAPI)' : 'it wants credentials: put them in the proxy URL (socks5://user:password@host:port)'}`
        : `${where}: chose authentication method 0x${hex(method)}, which was not offered`,
      { ...details, reply: method },
    );
  }
  if (method === METHOD_PASSWORD) {
    const user = Buffer.from(proxy.username!);
    const pass = Buffer.from(proxy.password ?? '');
    socket.write(Buffer.concat([Buffer.from([0x01, user.length]), user, Buffer.from([pass.length]), pass]));
    const status = await reader.exactly(2, closed('the username/password check'));
    // RFC 1929's sub-negotiation version is 0x01; some servers answer 0x05, and curl accepts any.
    if (status[1] !== 0x00) {
      throw new TunnelError(
        'NETKIT_TUNNEL_AUTH',
        `${where}: refused the user name and password (RFC 1929 status 0x${hex(status[1]!)})`,
        { ...details, reply: status[1]! },
      );
    }
  }

  socket.write(
    Buffer.concat([Buffer.from([VERSION, CMD_CONNECT, 0x00]), encodeAddress(host), portBytes(port)]),
  );
  const head = await reader.exactly(4, closed(`the CONNECT to ${target}`));
  if (head[0] !== VERSION) {
    throw malformed(`answered CONNECT with version byte 0x${hex(head[0]!)}, not 0x05`);
  }
  const reply = head[1]!;
  if (reply !== 0x00) {
    throw new TunnelError(
      'NETKIT_TUNNEL_FAILED',
      `${where}: cannot reach ${target}: ${socks5Meaning(reply)} (SOCKS5 reply 0x${hex(reply)})`,
      { ...details, reply },
    );
  }
  if (head[2] !== 0x00) throw malformed(`sent 0x${hex(head[2]!)} in the reserved byte of its CONNECT reply`);
  // The bound address (BND.ADDR, BND.PORT) is read to find where the tunnel's bytes start, and dropped.
  const atyp = head[3]!;
  let rest: number;
  if (atyp === ATYP_IPV4) rest = 4 + 2;
  else if (atyp === ATYP_IPV6) rest = 16 + 2;
  else if (atyp === ATYP_DOMAIN) rest = (await reader.exactly(1, closed('the CONNECT reply')))[0]! + 2;
  else throw malformed(`sent unknown address type 0x${hex(atyp)} in its CONNECT reply`);
  await reader.exactly(rest, closed('the CONNECT reply'));
}

/** encodeAddress is DST.ADDR with its type byte: IPv4, IPv6, or a domain name of at most 255 bytes. */
function encodeAddress(host: string): Buffer {
  const family = net.isIP(host);
  if (family === 4) return Buffer.from([ATYP_IPV4, ...host.split('.').map(Number)]);
  if (family === 6) {
    const words = expandIPv6(host);
    const b = Buffer.alloc(17);
    b[0] = ATYP_IPV6;
    for (const [i, w] of words.entries()) b.writeUInt16BE(w, 1 + 2 * i);
    return b;
  }
  const name = Buffer.from(host);
  return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name]);
}

/** expandIPv6 turns an IPv6 literal (embedded IPv4 allowed) into its eight 16-bit words. */
function expandIPv6(ip: string): number[] {
  let text = ip.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left, right] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((w) => Number.parseInt(w, 16)));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  return [...l, ...new Array(8 - l.length - r.length).fill(0), ...r];
}

function portBytes(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(port);
  return b;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
