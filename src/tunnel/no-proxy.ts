import net from 'node:net';

/**
 * NO_PROXY as curl reads it (also `--noproxy`): a list separated by commas
 * (and spaces) of
 * - `*` alone: no host goes through the proxy;
 * - a domain, with or without a leading dot: `example.com` and
 *   `.example.com` both match example.com and every name under it, never
 *   `badexample.com`;
 * - an IP literal (IPv6 with or without brackets), matched exactly, or a
 *   CIDR range (`10.0.0.0/8`, `fd00::/8`), matched against IP literals
 *   only (names are not resolved to decide);
 * - any of these with `:port`, which then matches only that port.
 * Names compare case-insensitively, a trailing dot ignored.
 */

interface Entry {
  host: string;
  port: number | undefined;
  cidr: net.BlockList | undefined;
}

/** NoProxy is a parsed NO_PROXY list. */
export class NoProxy {
  readonly #all: boolean;
  readonly #entries: Entry[];

  constructor(list: string | undefined) {
    const items = (list ?? '')
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter((s) => s !== '');
    this.#all = items.includes('*');
    this.#entries = items.filter((s) => s !== '*').flatMap((s) => parseEntry(s) ?? []);
  }

  /** matches reports whether `host`:`port` should be reached directly, not through the proxy. */
  matches(host: string, port: number): boolean {
    if (this.#all) return true;
    const h = normalizeHost(host);
    const family = net.isIP(h);
    for (const e of this.#entries) {
      if (e.port !== undefined && e.port !== port) continue;
      if (e.cidr !== undefined) {
        if (family !== 0 && e.cidr.check(h, family === 4 ? 'ipv4' : 'ipv6')) return true;
        continue;
      }
      if (h === e.host) return true;
      // An IP literal has many spellings (`::1`, `0:0::1`; WHATWG URL writes `[::ffff:127.0.0.1]`
      // as `[::ffff:7f00:1]`): compare addresses, not text.
      if (family !== 0 && net.isIP(e.host) !== 0 && sameAddress(h, e.host)) return true;
      if (family === 0 && net.isIP(e.host) === 0 && h.endsWith(`.${e.host}`)) return true;
    }
    return false;
  }
}

function parseEntry(item: string): Entry | undefined {
  let text = item;
  let port: number | undefined;
  // [v6]:port, [v6], host:port; a bare IPv6 literal has more than one colon and no port.
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    text = bracket[1]!;
    port = bracket[2] === undefined ? undefined : Number(bracket[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(text);
    if (m) {
      text = m[1]!;
      port = Number(m[2]);
    }
  }
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const ip = text.slice(0, slash);
    const bits = Number(text.slice(slash + 1));
    const family = net.isIP(ip);
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128))
      return undefined;
    const cidr = new net.BlockList();
    cidr.addSubnet(ip, bits, family === 4 ? 'ipv4' : 'ipv6');
    return { host: '', port, cidr };
  }
  const host = normalizeHost(text.replace(/^\*?\./, ''));
  return host === '' ? undefined : { host, port, cidr: undefined };
}

function sameAddress(a: string, b: string): boolean {
  const list = new net.BlockList();
  const family = net.isIP(b) === 4 ? 'ipv4' : 'ipv6';
  list.addAddress(b, family);
  return list.check(a, net.isIP(a) === 4 ? 'ipv4' : 'ipv6');
}

function normalizeHost(host: string): string {
  return host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}
