/**
 * Address resolution with Go's rules: `net.ResolveTCPAddr` /
 * `net.ResolveUDPAddr`, i.e. Go's `internetAddrList`, `filterAddrList` and
 * `addrList.forResolve` (net/ipsock.go), and `lookupIPAddr` (net/lookup.go).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { AbortError, AddrError } from '../errors.js';
import { isDomainName, isInetAtonNumber } from './domain.js';
import { addrError } from './goerror.js';
import { ipString, ipv4, isIPv4, isIPv6Unspecified, parseIPZone } from './ip.js';
import type { NetAddr } from './netaddr.js';
import { ipVersion, parseTCPNetwork, parseUDPNetwork } from './network.js';
import { lookupPort } from './port.js';
import { splitHostPort } from './split.js';

/** ResolveOptions tunes resolveTCPAddr and resolveUDPAddr. */
export interface ResolveOptions {
  /** Cancels a pending host lookup; the promise then rejects with `AbortError`. */
  signal?: AbortSignal;
  /**
   * Resolves a host name to addresses, in preference order. Defaults to
   * `dns.promises.lookup(host, { all: true, verbatim: true })`. It is only
   * called for valid domain names that are not IP literals.
   */
  lookup?: (host: string) => Promise<
    {
      /** An IP literal, IPv4 or IPv6. */
      address: string;
      /** 4 or 6, as `dns.lookup` reports it. */
      family: number;
    }[]
  >;
}

/** ResolveCandidate is one address the host resolved to, and what Go did with it. */
export interface ResolveCandidate {
  /** The address as Go prints it (IPv4-mapped IPv6 prints as IPv4). */
  ip: string;
  /** The IPv6 scope the host named (`%eth0`), '' when there is none. */
  zone: string;
  /** 4 for IPv4 and IPv4-mapped IPv6 (Go's `To4() != nil`), else 6. */
  family: 4 | 6;
  /** True for the one address Go's resolver returns. */
  chosen: boolean;
  /** eligible is false when the network's family filter removed it (tcp4 drops IPv6, tcp6 drops IPv4). */
  eligible: boolean;
  /** Why it was chosen or not, e.g. "filtered out: tcp6 wants IPv6". */
  reason: string;
}

/**
 * Resolution is the result of resolveTCPAddr / resolveUDPAddr: the chosen
 * address (the fields of `NetAddr`), the network after defaulting ('' becomes
 * `tcp` / `udp`), the host part of the address (with its `%zone`, without
 * brackets; '' for the unspecified address) and every candidate address in
 * lookup order. `candidates` is empty when the host is empty.
 */
export interface Resolution extends NetAddr {
  /** The network after defaulting: '' becomes `tcp` or `udp`. */
  network: string;
  /** The host part, with its `%zone` and without brackets; '' for the unspecified address. */
  host: string;
  /** Every address the lookup gave, in lookup order; empty when the host is empty. */
  candidates: ResolveCandidate[];
}

interface Entry {
  ip: Uint8Array;
  zone: string;
  v4: boolean;
  /** Added by Go's lone-"::" rule rather than by the lookup. */
  added: boolean;
}

/**
 * resolveTCPAddr resolves `address` (`host:port`) for a TCP network the way
 * Go's `net.ResolveTCPAddr` does, including Go's error text.
 *
 * - `network` is `tcp`, `tcp4`, `tcp6`, or '' for `tcp`.
 * - The port may be a number (Go's parsePort rules), '' for 0, or a service
 *   name (see lookupPort). An empty `address` is `:0`.
 * - An empty host gives the unspecified address: `ip` '' and `family` 0.
 * - IP literals (with an IPv6 `%zone`) are used without a lookup; names that
 *   are not valid domain names (Go's isDomainName) fail without a lookup.
 * - `tcp4` keeps only IPv4 (IPv4-mapped IPv6 counts as IPv4), `tcp6` only
 *   IPv6. For `tcp`, the first IPv4 address wins unless the address contains
 *   '[', in which case the first non-IPv4 one does; with no such address,
 *   the first address wins.
 *
 * @throws {AddrError} with code NETKIT_UNKNOWN_NETWORK, NETKIT_ADDR_SYNTAX,
 * NETKIT_MISSING_PORT, NETKIT_INVALID_PORT, NETKIT_UNKNOWN_PORT,
 * NETKIT_NO_SUITABLE_ADDRESS or NETKIT_LOOKUP_FAILED (whose `cause` is the
 * lookup's error).
 * @throws {AbortError} when `options.signal` is aborted.
 */
export async function resolveTCPAddr(
  network: string,
  address: string,
  options: ResolveOptions = {},
): Promise<Resolution> {
  throwIfAborted(options.signal, 'resolveTCPAddr');
  return resolve(parseTCPNetwork(network), address, options, 'resolveTCPAddr');
}

/**
 * resolveUDPAddr resolves `address` for a UDP network (`udp`, `udp4`,
 * `udp6`, or '' for `udp`) the way Go's `net.ResolveUDPAddr` does, with the
 * same rules and errors as resolveTCPAddr.
 */
export async function resolveUDPAddr(
  network: string,
  address: string,
  options: ResolveOptions = {},
): Promise<Resolution> {
  throwIfAborted(options.signal, 'resolveUDPAddr');
  return resolve(parseUDPNetwork(network), address, options, 'resolveUDPAddr');
}

/** resolve is Go's `internetAddrList` followed by `forResolve`. */
async function resolve(
  net: string,
  address: string,
  options: ResolveOptions,
  op: string,
): Promise<Resolution> {
  let host = '';
  let port = 0;
  // Go skips splitting for an empty address, so "" means ":0".
  if (address !== '') {
    const hp = splitHostPort(address);
    host = hp.host;
    port = await lookupPort(net, hp.port);
  }
  if (host === '') {
    return { network: net, host: '', ip: '', port, zone: '', family: 0, candidates: [] };
  }

  let literal = true;
  const entries = lookupIPAddr(host);
  if (entries.length === 0) {
    literal = false;
    entries.push(...(await lookupName(host, options, op)));
  }
  // Go's issue 18806: a host that is only "::" also offers 0.0.0.0, for
  // machines that can bind "::" but not connect back to it.
  if (entries.length === 1 && isIPv6Unspecified(entries[0]!.ip)) {
    entries.push({ ip: ipv4(0, 0, 0, 0), zone: '', v4: true, added: true });
  }

  // Go's filterAddrList with ipv4only / ipv6only.
  const version = ipVersion(net);
  const passes = (e: Entry) => (version === 4 ? e.v4 : version === 6 ? !e.v4 : true);
  const kept = entries.filter(passes);
  if (kept.length === 0) {
    throw addrError('NETKIT_NO_SUITABLE_ADDRESS', host, 'no suitable address found');
  }

  // Go's forResolve: only plain tcp/udp look for '[' in the whole address.
  const want6 = (net === 'tcp' || net === 'udp') && address.includes('[');
  const strategy = (e: Entry) => (want6 ? !e.v4 : e.v4);
  const chosen = kept.find(strategy) ?? kept[0]!;

  const why = explain(net, version, want6);
  const candidates = entries.map((e): ResolveCandidate => {
    let reason: string;
    if (!passes(e)) reason = why.filtered();
    else if (e === chosen) reason = kept.length === 1 ? why.only(literal) : why.chosen(strategy(e));
    else if (version === 0 && !strategy(e)) reason = `not chosen: ${familyWord(e)} (${why.pref})`;
    else reason = 'not chosen: an earlier address was chosen';
    if (e.added) reason += "; added by Go's rule for a lone :: (golang.org/issue/18806)";
    return {
      ip: ipString(e.ip),
      zone: e.zone,
      family: e.v4 ? 4 : 6,
      chosen: e === chosen,
      eligible: passes(e),
      reason,
    };
  });
  return {
    network: net,
    host,
    ip: ipString(chosen.ip),
    port,
    zone: chosen.zone,
    family: chosen.v4 ? 4 : 6,
    candidates,
  };
}

/** lookupIPAddr is the literal half of Go's `lookupIPAddr`: [] when `host` is not an IP. */
function lookupIPAddr(host: string): Entry[] {
  const lit = parseIPZone(host);
  return lit === null ? [] : [{ ip: lit.ip, zone: lit.zone, v4: isIPv4(lit.ip), added: false }];
}

/** lookupName resolves a host name that is not an IP literal. */
async function lookupName(host: string, options: ResolveOptions, op: string): Promise<Entry[]> {
  // Go's goLookupIPCNAMEOrder answers "no such host" for names that fail
  // isDomainName without sending a query; so do we. getaddrinfo would also
  // read inet_aton forms such as 0x7f.1 as IPv4, which Go never does.
  if (!isDomainName(host) || (options.lookup === undefined && isInetAtonNumber(host))) {
    throw lookupFailed(host, undefined);
  }
  const lookup = options.lookup ?? ((h: string) => dnsLookup(h, { all: true, verbatim: true }));
  let answers: { address: string; family: number }[];
  try {
    answers = await raceAbort(lookup(host), options.signal, op);
  } catch (err) {
    if (err instanceof AbortError) throw err;
    throw lookupFailed(host, err);
  }
  const entries: Entry[] = [];
  for (const a of answers) {
    // The answer's own family is ignored: Go classifies by To4(), so an
    // IPv4-mapped answer counts as IPv4. Unparseable answers are skipped.
    const lit = parseIPZone(a.address);
    if (lit !== null) entries.push({ ip: lit.ip, zone: lit.zone, v4: isIPv4(lit.ip), added: false });
  }
  // Go reports an empty answer as errNoSuchHost.
  if (entries.length === 0) throw lookupFailed(host, undefined);
  return entries;
}

/** LOOKUP_TEXT maps Node/getaddrinfo error codes to the text Go prints. */
const LOOKUP_TEXT: Record<string, string> = {
  ENOTFOUND: 'no such host',
  ENODATA: 'no such host',
  EAI_NONAME: 'no such host',
  EAI_NODATA: 'no such host',
  // Go's cgo resolver prints gai_strerror(EAI_AGAIN) for this one.
  EAI_AGAIN: 'Temporary failure in name resolution',
};

/** lookupFailed builds Go's `DNSError` text: "lookup <host>: <why>". */
function lookupFailed(host: string, cause: unknown): AddrError {
  let why = 'no such host';
  if (cause !== undefined) {
    const code = (cause as { code?: unknown } | null)?.code;
    if (typeof code === 'string') why = LOOKUP_TEXT[code] ?? code;
    else why = cause instanceof Error ? cause.message : String(cause);
  }
  return new AddrError(
    'NETKIT_LOOKUP_FAILED',
    `lookup ${host}: ${why}`,
    host,
    cause === undefined ? undefined : { cause },
  );
}

function familyWord(e: Entry): string {
  return e.v4 ? 'IPv4 address' : 'IPv6 address';
}

/** explain words the reasons for one resolution's candidates. */
function explain(net: string, version: 4 | 6 | 0, want6: boolean) {
  const pref =
    version === 4
      ? `network ${net} keeps only IPv4`
      : version === 6
        ? `network ${net} keeps only IPv6`
        : want6
          ? `Go prefers IPv6 for network ${net} when the address has '['`
          : `Go prefers IPv4 for network ${net} without brackets`;
  const wanted = want6 ? 'non-IPv4' : 'IPv4';
  return {
    pref,
    // Go's ipv6only rejects IPv4-mapped IPv6 too: after parsing, Go cannot
    // tell ::ffff:1.2.3.4 from 1.2.3.4.
    filtered: () => `filtered out: ${net} wants IPv${version === 4 ? 4 : 6}`,
    only: (literal: boolean) =>
      literal ? `only address (literal IP, no lookup; ${pref})` : `only address (${pref})`,
    chosen: (matched: boolean) =>
      version !== 0
        ? `first address left after filtering (${pref})`
        : matched
          ? `first ${wanted} address (${pref})`
          : `first address, as there is no ${wanted} address (${pref})`,
  };
}

function throwIfAborted(signal: AbortSignal | undefined, op: string): void {
  if (signal?.aborted) throw new AbortError(op, signal.reason);
}

/** raceAbort settles with `p`, or rejects with AbortError when `signal` fires first. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, op: string): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(op, signal.reason));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
