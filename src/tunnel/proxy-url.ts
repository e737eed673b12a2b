import net from 'node:net';
import { InvalidArgumentError } from '../errors.js';

/**
 * Proxy URLs as curl reads them (`-x`, `ALL_PROXY`): `http://` is HTTP
 * CONNECT, `socks5://` is SOCKS5 with the name resolved here, `socks5h://`
 * SOCKS5 with the name resolved by the proxy; a URL without a scheme is
 * http://, and a proxy without a port is on 1080, curl's default for every
 * scheme. Credentials in the URL are percent-decoded, as curl does.
 */

/** PROXY_SCHEMES are the proxy URL schemes accepted. */
export const PROXY_SCHEMES = Object.freeze(['http', 'socks5', 'socks5h'] as const);

/** ProxyScheme is one of PROXY_SCHEMES. */
export type ProxyScheme = (typeof PROXY_SCHEMES)[number];

/** DEFAULT_PROXY_PORT is curl's port for a proxy URL that names none. */
export const DEFAULT_PROXY_PORT = 1080;

/** ProxySpec is a parsed, validated proxy URL. */
export interface ProxySpec {
  /** scheme says how the tunnel is asked for: HTTP CONNECT, or SOCKS5 with the name resolved here or by the proxy. */
  readonly scheme: ProxyScheme;
  /** host is the proxy's name or IP literal, without brackets. */
  readonly host: string;
  /** port is the proxy's port: DEFAULT_PROXY_PORT when the URL names none. */
  readonly port: number;
  /** username is the URL's user name, percent-decoded (Basic or RFC 1929 credentials). */
  readonly username: string | undefined;
  /** password is the URL's password, percent-decoded; '' with a user name and no password. */
  readonly password: string | undefined;
  /** href is the URL for messages: scheme, host and port, the user name kept, the password never. */
  readonly href: string;
}

/** ProxyInput is what a `proxy` option takes: a URL string, a URL, or a parsed ProxySpec. */
export type ProxyInput = string | URL | ProxySpec;

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
// The port after the host, if any: WHATWG URL drops a default one (:80 for http), curl keeps it.
const HOST_PORT = /^(?:\[[^\]]*\]|[^:]*):(\d+)$/;

/**
 * parseProxyUrl validates a proxy URL and returns its parts; failures are
 * InvalidArgumentError naming `option` and listing the accepted schemes.
 */
export function parseProxyUrl(input: ProxyInput, option = 'proxy'): ProxySpec {
  if (isProxySpec(input)) return input;
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw new InvalidArgumentError(option, `must be a proxy URL string, got ${typeof input}`);
  }
  const text = (input instanceof URL ? input.href : input).trim();
  const bad = (why: string) =>
    new InvalidArgumentError(
      option,
      `${why}; expected ${PROXY_SCHEMES.map((s) => `${s}://`).join(', ')} followed by [user:password@]host[:port]`,
    );
  if (text === '') throw bad('empty proxy URL');
  const withScheme = SCHEME.test(text) ? text : `http://${text}`;
  const scheme = SCHEME.exec(withScheme)![1]!.toLowerCase();
  if (!(PROXY_SCHEMES as readonly string[]).includes(scheme)) {
    throw bad(`unsupported proxy scheme ${JSON.stringify(`${scheme}://`)}`);
  }
  const explicit = explicitPort(withScheme);
  const port = explicit === undefined ? DEFAULT_PROXY_PORT : Number(explicit);
  // Checked before the URL parser, whose message for :65536 would only say "not a valid URL".
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port ${explicit} is not 1-65535`);
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw bad(`${JSON.stringify(redact(text))} is not a valid URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw bad(`${JSON.stringify(redact(text))} names no host`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw bad(`${JSON.stringify(redact(text))} has a path, query or fragment; a proxy URL has none`);
  }
  // `:password@` alone (an empty user name) is still a credential, as in curl: it is sent
  // (Basic `:password`), not dropped; SOCKS5 refuses it below, as RFC 1929 needs a user name.
  const username = url.username === '' && url.password === '' ? undefined : decode(url.username, option);
  const password =
    url.password === '' ? (username === undefined ? undefined : '') : decode(url.password, option);
  if (scheme !== 'http') {
    // RFC 1929: each is one length byte, at least 1 byte long.
    for (const [name, v] of [
      ['user name', username],
      ['password', password],
    ] as const) {
      if (v !== undefined && Buffer.byteLength(v) > 255) {
        throw new InvalidArgumentError(option, `the SOCKS5 ${name} is over 255 bytes (RFC 1929's limit)`);
      }
    }
    if (username !== undefined && password === '') {
      throw new InvalidArgumentError(option, 'SOCKS5 username/password authentication needs a password');
    }
    if (username === '') {
      throw new InvalidArgumentError(
        option,
        'SOCKS5 username/password authentication needs a user name (RFC 1929: 1 to 255 bytes)',
      );
    }
  }
  const hostText = net.isIPv6(host) ? `[${host}]` : host;
  const userText = username === undefined || username === '' ? '' : `${encodeURIComponent(username)}@`;
  return Object.freeze({
    scheme: scheme as ProxyScheme,
    host,
    port,
    username,
    password,
    href: `${scheme}://${userText}${hostText}:${port}`,
  });
}

/**
 * explicitPort is the port written in a URL's authority, or undefined. The
 * host starts after the authority's last `@`: with `user:1234@proxy`, 1234
 * is a password, not the port.
 */
function explicitPort(url: string): string | undefined {
  const authority = url.slice(url.indexOf('//') + 2).split(/[/?#]/)[0]!;
  return HOST_PORT.exec(authority.slice(authority.lastIndexOf('@') + 1))?.[1];
}

/**
 * redact hides the password of a URL-like text, for messages. The text may
 * be an invalid URL (that is why it is shown), so everything up to the
 * last `@` counts as credentials: a password may hold an unescaped `@`,
 * `/`, `?` or `#`, and a scheme may be missing. Hiding too much of a bad
 * URL costs a clue; hiding too little prints a secret.
 */
export function redact(text: string): string {
  return text.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?[^:@/]*):.*@/is, '$1:***@');
}

function decode(part: string, option: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidArgumentError(option, 'the credentials in the proxy URL are not valid percent-encoding');
  }
}

function isProxySpec(v: unknown): v is ProxySpec {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof URL) &&
    typeof (v as ProxySpec).scheme === 'string' &&
    typeof (v as ProxySpec).host === 'string' &&
    typeof (v as ProxySpec).port === 'number'
  );
}
