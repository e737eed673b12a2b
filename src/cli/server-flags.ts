import { InvalidArgumentError } from '../errors.js';
import { UNIX_PREFIX } from '../tcp/index.js';
import { type Command, Option } from './commander.js';
import {
  durationOption,
  intOption,
  jsonOption,
  type KeepAliveFlags,
  keepAliveOption,
  networkOption,
  type ProxyFlags,
  proxyFromFlags,
  proxyProtocolOption,
  trustOption,
  userTimeoutOption,
  wrap,
} from './options.js';

/**
 * The flags every server command shares, defined once so they are spelled,
 * parsed and checked the same way in `tcp serve`, `rpc serve`, `http serve`,
 * `ws serve` and `recv`.
 */

/** ServerFlags are what the shared flags parse into. Durations are milliseconds. */
export interface ServerFlags extends ProxyFlags, KeepAliveFlags {
  network: string;
  socketMode?: number;
  workers: number;
  shutdownTimeout: number;
  maxConns: number;
  /** maxConnections is the old spelling of --max-conns, kept hidden where it existed. */
  maxConnections?: number;
  quiet?: boolean;
  json?: boolean;
  tls?: boolean;
  cert?: string;
  key?: string;
  clientCa?: string;
  handshakeTimeout: number;
}

/** ServerFlagText is what differs between commands in the shared flags: defaults and help text. */
export interface ServerFlagText {
  /** maxConns is --max-conns; `oldName` keeps --max-connections working (hidden) where scripts used it. */
  maxConns: { help: string; default: number; max?: number; oldName?: boolean };
  shutdownTimeout: { help: string; default: string };
  quiet: string;
  workers?: string;
  /** handshakeTimeout is set when the command has a handshake of its own that the flag also bounds. */
  handshakeTimeout?: string;
}

const SERVER = 'Server options:';
const TLS = 'TLS options:';

/** addServerFlags adds the shared flags to `cmd`, after its own, in two help groups. */
export function addServerFlags(cmd: Command, text: ServerFlagText): Command {
  const server = (o: Option) => cmd.addOption(o.helpGroup(SERVER));
  const tls = (o: Option) => cmd.addOption(o.helpGroup(TLS));
  server(networkOption('tcp'));
  server(
    new Option('--socket-mode <mode>', 'permissions of a unix: socket file, in octal (0660)').argParser(
      wrap(parseSocketMode),
    ),
  );
  const max = text.maxConns.max ?? 1_000_000;
  server(intOption('--max-conns <n>', text.maxConns.help, 1, max, text.maxConns.default));
  if (text.maxConns.oldName) {
    server(intOption('--max-connections <n>', 'the old name of --max-conns', 1, max).hideHelp());
  }
  server(
    durationOption('--shutdown-timeout <duration>', text.shutdownTimeout.help, text.shutdownTimeout.default),
  );
  server(
    intOption(
      '--workers <n>',
      text.workers ?? 'processes sharing the address (node:cluster), at most one per free core',
      1,
      256,
      1,
    ),
  );
  server(keepAliveOption());
  server(userTimeoutOption());
  server(proxyProtocolOption());
  server(trustOption());
  server(new Option('-q, --quiet', text.quiet));
  server(jsonOption());
  tls(
    new Option('--tls', 'speak TLS with an ephemeral self-signed certificate; clients pin its fingerprint'),
  );
  tls(
    new Option(
      '--cert <file>',
      'the certificate, PEM (chain allowed, leaf first); implies --tls; SIGHUP reloads it',
    ),
  );
  tls(new Option('--key <file>', 'the private key of --cert, PEM'));
  tls(
    new Option(
      '--client-ca <file>',
      'mutual TLS: require a client certificate from this CA (PEM); implies --tls',
    ),
  );
  tls(
    durationOption(
      '--handshake-timeout <duration>',
      text.handshakeTimeout ?? 'close a connection whose TLS handshake is not done by then',
      '5s',
    ),
  );
  return cmd;
}

/**
 * parseListenAddress reads a server's address argument. A bare port
 * (`8330`, as in ncat's `-l 8330`) means `:8330`: every interface, as an
 * address without a host does; anything else goes to listen() as typed.
 * A bare number beyond 65535 is refused here, naming the range, rather
 * than later as a resolver error.
 */
export function parseListenAddress(text: string): string {
  if (!/^\d+$/.test(text)) return text;
  if (Number(text) > 65535)
    throw new Error(`port ${text} is out of range: give 0 to 65535 (0 picks a free port)`);
  return `:${text}`;
}

/** parseSocketMode reads file permissions in octal: `0660`, `660`, `0o660`. */
export function parseSocketMode(text: string): number {
  const m = /^(?:0o?)?([0-7]{1,3})$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a file mode; use octal, e.g. 0660`);
  return Number.parseInt(m[1]!, 8);
}

/** ServerSetup is the shared flags checked against each other and the address, before anything is bound. */
export interface ServerSetup {
  address: string;
  /** unix is true for a `unix:/path` address. */
  unix: boolean;
  network: string;
  proxy: { trust: string[] } | undefined;
  socketMode: number | undefined;
  maxConns: number;
  /** tls is true when any TLS flag was given. */
  tls: boolean;
}

/**
 * checkServerFlags checks the shared flags before anything is bound, each
 * failure naming the flag: --socket-mode and unix: go together, PROXY
 * headers need an IP peer, --cert and --key go together.
 * `explicit(name)` tells a flag given on the command line from a default.
 */
export function checkServerFlags(
  address: string,
  flags: ServerFlags,
  explicit: (name: string) => boolean,
  handshakeWithoutTls: boolean,
): ServerSetup {
  const unix = address.startsWith(UNIX_PREFIX);
  if (unix && explicit('network')) {
    throw new InvalidArgumentError('--network', `${address} is a Unix socket; --network picks an IP family`);
  }
  if (flags.socketMode !== undefined && !unix) {
    throw new InvalidArgumentError(
      '--socket-mode',
      'sets the mode of a Unix socket file: give a unix:/path address',
    );
  }
  const proxy = proxyFromFlags(flags);
  if (proxy && unix) {
    throw new InvalidArgumentError(
      '--proxy-protocol',
      "PROXY headers are trusted by the peer's IP, and a Unix socket peer has none",
    );
  }
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new InvalidArgumentError(
      flags.cert === undefined ? '--key' : '--cert',
      '--cert and --key go together (--tls alone makes an ephemeral certificate)',
    );
  }
  const tls = Boolean(flags.tls || flags.cert !== undefined || flags.clientCa !== undefined);
  if (!tls && !handshakeWithoutTls && explicit('handshakeTimeout')) {
    throw new InvalidArgumentError(
      '--handshake-timeout',
      'bounds the TLS handshake: add --tls, --cert/--key or --client-ca',
    );
  }
  let maxConns = flags.maxConns;
  if (flags.maxConnections !== undefined) {
    if (explicit('maxConns')) {
      throw new InvalidArgumentError('--max-connections', 'is the old name of --max-conns: give one of them');
    }
    maxConns = flags.maxConnections;
  }
  return {
    address,
    unix,
    network: flags.network,
    proxy,
    socketMode: flags.socketMode,
    maxConns,
    tls,
  };
}
