import { InvalidArgumentError } from '../errors.js';
// Types only: the TLS client (and node:tls) loads when a TLS flag is given, so a cleartext
// command starts without it; and not netkit/tls, whose server side carries pkijs.
import type { TlsClientOptions } from '../tls/client.js';
import { parsePin } from '../tls/pin.js';
import { type Command, Option } from './commander.js';
import { readFileFlag } from './files.js';
import { wrap } from './options.js';

/**
 * The client TLS flags, the same on every client command (tcp connect,
 * http get…, ws connect, rpc call, send), parsed into the library's one
 * `tls` option.
 */

/** TlsFlags are what the client TLS flags parse into. */
export interface TlsFlags {
  tls?: boolean;
  cacert?: string;
  insecure?: boolean;
  servername?: string;
  pin?: string;
  cert?: string;
  key?: string;
}

/**
 * TlsTarget says how a command names its peer: by `url` (http, ws: the
 * scheme turns TLS on, and --tls turns http:// into https://), or by
 * `address` (tcp, rpc, send: --tls or any other TLS flag turns it on).
 */
export type TlsTarget = 'url' | 'address';

/** addTlsFlags adds --tls, --cacert, -k, --servername, --pin, --cert and --key to `cmd`. */
export function addTlsFlags(cmd: Command, target: TlsTarget): Command {
  const on =
    target === 'url'
      ? 'speak TLS even for an http:// or ws:// URL (https:// and wss:// imply it)'
      : 'speak TLS';
  const implies = target === 'address' ? '; implies --tls' : '';
  return cmd
    .addOption(new Option('--tls', on))
    .addOption(
      new Option(
        '--cacert <file>',
        `trust the PEM certificates in this file instead of the system's (a self-signed or private-CA server)${implies}`,
      ),
    )
    .addOption(
      new Option(
        '-k, --insecure',
        `do not verify the certificate (testing only; --pin still applies)${implies}`,
      ),
    )
    .addOption(
      new Option(
        '--servername <name>',
        `the name sent in SNI and checked against the certificate (default: the host)${implies}`,
      ),
    )
    .addOption(
      new Option(
        '--pin <sha256:hex>',
        `accept exactly the certificate with this fingerprint, as a --tls server prints it${implies}`,
      ).argParser(wrap((v) => parsePin('--pin', v))),
    )
    .addOption(
      new Option('--cert <file>', `client certificate (PEM) for a server that requires one${implies}`),
    )
    .addOption(new Option('--key <file>', 'private key (PEM) of --cert'));
}

/** TLS_HELP is the paragraph every client command's --help ends with. */
export const TLS_HELP = `TLS: a failed handshake exits 3 with the reason (expired, wrong host, unknown CA,
pin mismatch, client certificate required, the peer does not speak TLS). A --tls
server prints its certificate's pin: pass it with --pin sha256:….`;

/** FLAG_OF names the flag behind each TLS option, for errors found while resolving them. */
const FLAG_OF: Readonly<Record<string, string>> = Object.freeze({
  'tls.ca': '--cacert',
  'tls.cert': '--cert',
  'tls.key': '--key',
  'tls.pin': '--pin',
  'tls.servername': '--servername',
  'tls.insecure': '--insecure',
});

/** wantsTls is true when any TLS flag is given (for an address: TLS on). */
export function wantsTls(flags: TlsFlags): boolean {
  return (
    flags.tls === true ||
    flags.insecure === true ||
    [flags.cacert, flags.servername, flags.pin, flags.cert, flags.key].some((v) => v !== undefined)
  );
}

/**
 * tlsFromFlags reads the files the flags name and returns the `tls` option:
 * undefined when no TLS flag is given. It is validated here, each failure
 * naming its flag (NETKIT_INVALID_ARGUMENT, exit 2; an unreadable file is
 * NETKIT_FILE_ACCESS), before anything is dialled.
 */
export async function tlsFromFlags(flags: TlsFlags): Promise<TlsClientOptions | undefined> {
  if (!wantsTls(flags)) return undefined;
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new InvalidArgumentError(
      flags.cert === undefined ? '--cert' : '--key',
      '--cert and --key go together',
    );
  }
  const o: TlsClientOptions = {};
  if (flags.cacert !== undefined) o.ca = await readFileFlag('--cacert', flags.cacert);
  if (flags.cert !== undefined) o.cert = await readFileFlag('--cert', flags.cert);
  if (flags.key !== undefined) o.key = await readFileFlag('--key', flags.key);
  if (flags.insecure) o.insecure = true;
  if (flags.servername !== undefined) o.servername = flags.servername;
  if (flags.pin !== undefined) o.pin = flags.pin;
  const { resolveTlsClient } = await import('../tls/client.js');
  try {
    resolveTlsClient(o);
  } catch (err) {
    const flag = err instanceof InvalidArgumentError ? FLAG_OF[err.option] : undefined;
    if (flag === undefined) throw err;
    const file = { '--cacert': flags.cacert, '--cert': flags.cert, '--key': flags.key }[flag as string];
    const reason = (err as Error).message.slice(
      err instanceof InvalidArgumentError ? err.option.length + 2 : 0,
    );
    throw new InvalidArgumentError(flag, file === undefined ? reason : `${file} ${reason}`);
  }
  return o;
}

/**
 * secureUrl is `url` with https:// (wss://) for http:// (ws://) when --tls
 * is given; otherwise `url` as it is. A Unix socket URL
 * (`http://unix:/path:/x`) keeps its form.
 */
export function secureUrl(url: string, flags: TlsFlags): string {
  if (!flags.tls) return url;
  return url.replace(/^(http|ws)(?=:\/\/)/i, (scheme) => `${scheme}s`);
}
