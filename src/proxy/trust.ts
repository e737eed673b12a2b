import net from 'node:net';
import { InvalidArgumentError } from '../errors.js';

/**
 * TrustList is a set of CIDR ranges (`10.0.0.0/8`, `::1/128`, or a bare
 * address) whose peers may speak for others: send a PROXY header, or add
 * X-Forwarded-For hops. Built on node:net's BlockList; IPv4-mapped IPv6
 * peers (`::ffff:10.1.2.3`, how a dual-stack listener sees IPv4) match
 * their IPv4 ranges.
 */
export class TrustList {
  /** ranges are the CIDR ranges as given, for printing. */
  readonly ranges: readonly string[];
  readonly #list = new net.BlockList();

  constructor(ranges: readonly string[]) {
    if (!Array.isArray(ranges)) throw new InvalidArgumentError('trust', 'must be a list of CIDR ranges');
    this.ranges = [...ranges];
    for (const r of ranges) this.#add(r);
  }

  #add(range: unknown): void {
    if (typeof range !== 'string') throw new InvalidArgumentError('trust', 'must be a list of CIDR ranges');
    const [ip = '', bits, extra] = range.split('/');
    const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : undefined;
    const max = family === 'ipv4' ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!family || extra !== undefined || !/^\d+$/.test(bits ?? String(max)) || prefix > max) {
      throw new InvalidArgumentError(
        'trust',
        `${JSON.stringify(range)} is not a CIDR range like 10.0.0.0/8, 127.0.0.1/32 or ::1/128`,
      );
    }
    this.#list.addSubnet(ip, prefix, family);
  }

  /** trusts is true when `ip` falls in one of the ranges. */
  trusts(ip: string | undefined): boolean {
    if (!ip) return false;
    const plain = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    const family = net.isIPv4(plain) ? 'ipv4' : net.isIPv6(plain) ? 'ipv6' : undefined;
    return family !== undefined && this.#list.check(plain, family);
  }
}

/** toTrustList accepts a TrustList or a list of ranges. */
export function toTrustList(trust: TrustList | readonly string[]): TrustList {
  return trust instanceof TrustList ? trust : new TrustList(trust);
}
