import { splitHostPort } from '../addr/index.js';
import { InvalidArgumentError } from '../errors.js';
import { UNIX_PREFIX } from '../tcp/unix.js';

/**
 * RelayEndpoint is one side of `netkit relay <listen> <target…>`, parsed
 * from socat-like text:
 *
 * | text | kind | as listen | as target |
 * |---|---|---|---|
 * | `HOST:PORT`, `tcp:HOST:PORT` | tcp | yes | yes |
 * | `tls:HOST:PORT` | tls | terminates TLS | originates TLS |
 * | `unix:PATH` | unix | yes | yes |
 * | `ws://HOST:PORT/PATH`, `wss://…` | ws | WebSocket clients in | dials a WebSocket server |
 * | `udp:HOST:PORT` | udp | yes (with a udp: target) | yes |
 * | `-` | stdio | one connection, from stdin/stdout | the first connection |
 * | `exec:COMMAND` | exec | no | a program per connection |
 */
export type RelayEndpoint =
  | {
      /** kind is `tcp`, or `tls` for `tls:HOST:PORT`. */
      readonly kind: 'tcp' | 'tls';
      /** address is `host:port`. */
      readonly address: string;
      /** text is the endpoint as given. */
      readonly text: string;
    }
  | {
      /** kind is `unix` for `unix:PATH`. */
      readonly kind: 'unix';
      /** path is the socket's path. */
      readonly path: string;
      /** text is the endpoint as given. */
      readonly text: string;
    }
  | {
      /** kind is `ws` for `ws://…` and `wss://…`. */
      readonly kind: 'ws';
      /** url is the WebSocket URL. */
      readonly url: URL;
      /** secure is true for `wss://`. */
      readonly secure: boolean;
      /** text is the endpoint as given. */
      readonly text: string;
    }
  | {
      /** kind is `udp` for `udp:HOST:PORT`. */
      readonly kind: 'udp';
      /** address is `host:port`. */
      readonly address: string;
      /** text is the endpoint as given. */
      readonly text: string;
    }
  | {
      /** kind is `stdio` for `-`. */
      readonly kind: 'stdio';
      /** text is the endpoint as given. */
      readonly text: string;
    }
  | {
      /** kind is `exec` for `exec:COMMAND`. */
      readonly kind: 'exec';
      /** command is the command line, split into argv without a shell. */
      readonly command: string;
      /** text is the endpoint as given. */
      readonly text: string;
    };

export type EndpointKind = RelayEndpoint['kind'];

const PREFIXES = ['tcp:', 'tls:', 'udp:', 'exec:'] as const;

/**
 * parseEndpoint reads an endpoint's text for `role`. Host and port follow
 * Go's syntax (`[::1]:80`, `:8080` for every address). Throws
 * InvalidArgumentError naming `option` and what was wrong.
 */
export function parseEndpoint(text: string, role: 'listen' | 'target', option: string = role): RelayEndpoint {
  if (typeof text !== 'string' || text === '') {
    throw new InvalidArgumentError(option, 'is empty; give HOST:PORT, tls:, ws://, udp:, unix:, - or exec:');
  }
  if (text === '-') return { kind: 'stdio', text };
  if (text.startsWith(UNIX_PREFIX)) {
    const path = text.slice(UNIX_PREFIX.length);
    if (path === '') throw new InvalidArgumentError(option, `${text}: the socket path is missing`);
    return { kind: 'unix', path, text };
  }
  if (/^wss?:\/\//i.test(text)) return wsEndpoint(text, option);
  for (const prefix of PREFIXES) {
    if (!text.toLowerCase().startsWith(prefix)) continue;
    const rest = text.slice(prefix.length);
    if (prefix === 'exec:') {
      if (role === 'listen') {
        throw new InvalidArgumentError(option, `${text}: exec: is a target only; listen on an address`);
      }
      if (rest.trim() === '') throw new InvalidArgumentError(option, `${text}: the command is missing`);
      return { kind: 'exec', command: rest, text };
    }
    checkHostPort(rest, option, text);
    const kind = prefix.slice(0, -1) as 'tcp' | 'tls' | 'udp';
    return { kind, address: rest, text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new InvalidArgumentError(
      option,
      `${text}: unknown scheme; use tcp:, tls:, ws://, wss://, udp:, unix: or exec:`,
    );
  }
  checkHostPort(text, option, text);
  return { kind: 'tcp', address: text, text };
}

function checkHostPort(address: string, option: string, text: string): void {
  try {
    splitHostPort(address);
  } catch (err) {
    throw new InvalidArgumentError(option, `${text}: ${(err as Error).message}`);
  }
}

function wsEndpoint(text: string, option: string): RelayEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(option, `${text}: not a valid WebSocket URL`);
  }
  if (url.port === '' && url.hostname === '') throw new InvalidArgumentError(option, `${text}: no host`);
  return { kind: 'ws', url, secure: url.protocol === 'wss:', text };
}

/** wsListenAddress is where a ws:// listen endpoint binds: its host and port (80/443 when absent). */
export function wsListenAddress(url: URL): string {
  const port = url.port || (url.protocol === 'wss:' ? '443' : '80');
  const host = url.hostname.startsWith('[')
    ? url.hostname
    : url.hostname.includes(':')
      ? `[${url.hostname}]`
      : url.hostname;
  return `${host}:${port}`;
}
