/**
 * The service-name database behind named ports (`http`, `ssh`): Go's
 * built-in `services` map (net/lookup.go) merged with /etc/services, parsed
 * the way Go's `readServices` (net/port_unix.go) parses it.
 *
 * Internal to `netkit/addr`; `lookupPort` in port.ts is the public entry.
 */
import { readFile } from 'node:fs/promises';
import { dtoi } from './ip.js';

/** ServicesMap maps a protocol (`tcp`, `udp`, ...) to service name → port. */
export type ServicesMap = Map<string, Map<string, number>>;

/** SERVICES_FILE is where Go (and so netkit) reads service names on Unix. */
export const SERVICES_FILE = '/etc/services';

/**
 * builtinServices returns a fresh copy of Go's built-in map, used on
 * platforms without a full services file. /etc/services adds to it (and may
 * override an entry), as Go's `readServices` mutates the same map.
 */
export function builtinServices(): ServicesMap {
  return new Map([
    ['udp', new Map([['domain', 53]])],
    [
      'tcp',
      new Map([
        ['ftp', 21],
        ['ftps', 990],
        ['gopher', 70],
        ['http', 80],
        ['https', 443],
        ['imap2', 143],
        ['imap3', 220],
        ['imaps', 993],
        ['pop3', 110],
        ['pop3s', 995],
        ['smtp', 25],
        ['ssh', 22],
        ['telnet', 23],
      ]),
    ],
  ]);
}

/**
 * parseServices adds the entries of a services file's text to `into`, with
 * Go's `readServices` rules: text after '#' is dropped; fields are split on
 * space, tab, CR and LF; the second field must be `<port>/<proto>` with a
 * port > 0 (anything after the '/' is the protocol name, even `tcp/x`); the
 * first field and every alias map to the port, later lines overriding
 * earlier ones. Names are stored as written: Go lowercases only the name it
 * looks up, so an upper-case name in the file can never match.
 */
export function parseServices(text: string, into: ServicesMap): ServicesMap {
  for (let line of text.split('\n')) {
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const f = line.split(/[ \r\t\n]+/).filter((x) => x !== '');
    if (f.length < 2) continue;
    const portnet = f[1]!; // "80/tcp"
    const [port, j, ok] = dtoi(portnet);
    if (!ok || port <= 0 || j >= portnet.length || portnet.charCodeAt(j) !== 0x2f) continue;
    const netw = portnet.slice(j + 1);
    let m = into.get(netw);
    if (!m) {
      m = new Map();
      into.set(netw, m);
    }
    for (let i = 0; i < f.length; i++) {
      if (i !== 1) m.set(f[i]!, port);
    }
  }
  return into;
}

/**
 * readServices returns Go's built-in map merged with the file at `file`. A
 * missing or unreadable file leaves just the built-in map, as in Go.
 */
export async function readServices(file: string = SERVICES_FILE): Promise<ServicesMap> {
  const services = builtinServices();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return services;
  }
  return parseServices(text, services);
}

let cached: Promise<ServicesMap> | undefined;

/**
 * services returns the process-wide services map, reading /etc/services on
 * first use only (Go's `onceReadServices`); later edits to the file are not
 * seen, as in Go.
 */
export function services(): Promise<ServicesMap> {
  cached ??= readServices();
  return cached;
}
