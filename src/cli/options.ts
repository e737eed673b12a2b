import { InvalidArgumentError as CommanderInvalidArgument, Option } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { FRAME_FORMATS } from '../framing/index.js';
import { parseDuration } from '../internal/duration.js';

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
