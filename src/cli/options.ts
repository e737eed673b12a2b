import { InvalidArgumentError } from '../errors.js';
import { FRAME_FORMATS } from '../framing/types.js';
import { parseDuration } from '../internal/duration.js';
import { InvalidArgumentError as CommanderInvalidArgument, Option } from './commander.js';

/**
 * Shared option definitions, so the same flag means the same thing and
 * parses the same way in every command.
 */

/** wrap turns a netkit parse error into commander's, so a bad flag value is a usage error naming the flag. */
export function wrap<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (err) {
      throw new CommanderInvalidArgument((err as Error).message);
    }
  };
}

/** durationOption is a flag taking `500ms`, `30s`, `2m`; the value arrives in milliseconds. */
export function durationOption(flags: string, description: string, fallback?: string): Option {
  const o = new Option(flags, description).argParser(wrap((v) => parseDuration(v, flags.split(' ')[0])));
  if (fallback !== undefined) o.default(parseDuration(fallback), fallback);
  return o;
}

/** intOption is a flag taking a whole number within [min, max]. */
export function intOption(
  flags: string,
  description: string,
  min: number,
  max: number,
  fallback?: number,
): Option {
  const o = new Option(flags, description).argParser(
    wrap((v) => {
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < min || n > max)
        throw new Error(`must be a whole number from ${min} to ${max}`);
      return n;
    }),
  );
  if (fallback !== undefined) o.default(fallback);
  return o;
}

/** bytesOption is a size flag: `65536`, `64KiB`, `16MiB`, `1GiB`. */
export function bytesOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser(wrap(parseBytes));
}

/** parseBytes reads `65536`, `64k`, `64KiB`, `16MiB`, `1GiB` as a byte count. */
export function parseBytes(text: string): number {
  const m = /^(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a size; use e.g. 65536, 64KiB, 16MiB`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const mult = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1;
  return Number(m[1]) * mult;
}

/** frameOption is --frame, shared by servers and clients. */
export function frameOption(fallback: string): Option {
  return new Option('--frame <format>', 'message framing').choices(FRAME_FORMATS).default(fallback);
}

/** networkOption is --network tcp|tcp4|tcp6. */
export function networkOption(kind: 'tcp' | 'udp'): Option {
  return new Option('--network <network>', "address family, with Go's meaning")
    .choices([kind, `${kind}4`, `${kind}6`])
    .default(kind);
}

/** jsonOption is --json: one JSON object per line, for machines. */
export function jsonOption(): Option {
  return new Option('--json', 'print one JSON object per line');
}

/** collect gathers a repeatable flag's values into a list (commander's argParser for `-H`, `--origin`, …). */
export function collect(value: string, all: string[]): string[] {
  return [...all, value];
}

/** parseHeaderFlags reads `-H 'Name: value'` flags into pairs. */
export function parseHeaderFlags(list: readonly string[]): [string, string][] {
  return list.map((h) => {
    const i = h.indexOf(':');
    if (i <= 0) throw new InvalidArgumentError('--header', `"${h}" is not 'Name: value'`);
    return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
  });
}

/** proxyProtocolOption is --proxy-protocol, shared by every server command. */
export function proxyProtocolOption(): Option {
  return new Option(
    '--proxy-protocol',
    'read a PROXY protocol header (v1 or v2) from trusted proxies: see the real client',
  );
}

/** trustOption is --trust CIDR (repeatable): the proxies whose PROXY or forwarding headers are believed. */
export function trustOption(): Option {
  return new Option(
    '--trust <cidr>',
    'a proxy allowed to send a PROXY header or forwarding headers (repeatable)',
  )
    .argParser(collect)
    .default([]);
}

/** ProxyFlags are what --proxy-protocol and --trust parse into. */
export interface ProxyFlags {
  proxyProtocol?: boolean;
  trust: string[];
}

/** proxyFromFlags turns --proxy-protocol/--trust into the servers' `proxy` option (undefined when off). */
export function proxyFromFlags(flags: ProxyFlags): { trust: string[] } | undefined {
  if (!flags.proxyProtocol) return undefined;
  if (flags.trust.length === 0) {
    throw new InvalidArgumentError(
      '--proxy-protocol',
      'needs --trust CIDR: the proxies allowed to send a header',
    );
  }
  return { trust: flags.trust };
}

/** KeepAliveFlags are --keepalive and --user-timeout as parsed. */
export interface KeepAliveFlags {
  keepalive?: { idle: number; interval?: number; count?: number } | false;
  userTimeout?: number;
}

/**
 * keepAliveOption is `--keepalive IDLE[,INTERVAL,COUNT]` or `off`: TCP
 * keep-alive probes after IDLE of silence, INTERVAL apart, COUNT unanswered
 * ones dropping the connection (`15s,5s,3`). Without it netkit keeps Go's
 * default (15 s idle, the system's interval and count).
 */
export function keepAliveOption(): Option {
  return new Option(
    '--keepalive <idle[,interval,count]>',
    'TCP keep-alive: probe after idle, every interval, drop after count unanswered (15s,5s,3); off to disable',
  ).argParser(wrap(parseKeepAlive));
}

/** userTimeoutOption is `--user-timeout DURATION`: TCP_USER_TIMEOUT, a bound on unacknowledged writes (Linux). */
export function userTimeoutOption(): Option {
  return new Option(
    '--user-timeout <duration>',
    'drop a connection whose sent data stays unacknowledged this long (a peer gone mid-write; Linux)',
  ).argParser(wrap((v) => parseDuration(v, '--user-timeout', 1)));
}

/** parseKeepAlive reads `off`, `15s` or `15s,5s,3`. */
export function parseKeepAlive(text: string): KeepAliveFlags['keepalive'] {
  if (/^(off|false|0)$/i.test(text.trim())) return false;
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 1 && parts.length !== 3) {
    throw new Error(`"${text}" is not IDLE or IDLE,INTERVAL,COUNT (e.g. 15s,5s,3), or off`);
  }
  const idle = parseDuration(parts[0] as string, '--keepalive idle', 1000);
  if (parts.length === 1) return { idle };
  const interval = parseDuration(parts[1] as string, '--keepalive interval', 1000);
  const count = Number(parts[2]);
  if (!/^\d+$/.test(parts[2] as string) || count < 1 || count > 127) {
    throw new Error(`--keepalive count must be a whole number from 1 to 127, got "${parts[2]}"`);
  }
  return { idle, interval, count };
}

/** keepAliveFromFlags is the library's keepAlive option for the flags, or undefined for netkit's default. */
export function keepAliveFromFlags(
  flags: KeepAliveFlags,
): false | { idle?: number; interval?: number; count?: number; userTimeout?: number } | undefined {
  const k = flags.keepalive;
  if (k === false) {
    if (flags.userTimeout !== undefined) {
      throw new InvalidArgumentError('--user-timeout', 'goes with keep-alive on; remove --keepalive off');
    }
    return false;
  }
  if (k === undefined && flags.userTimeout === undefined) return undefined;
  return { ...(k ?? {}), ...(flags.userTimeout !== undefined ? { userTimeout: flags.userTimeout } : {}) };
}
