import { splitHostPort } from '../addr/index.js';
import { InvalidArgumentError, NetkitError } from '../errors.js';
import type { Listener } from '../tcp/index.js';
import { selfSigned } from '../tls/ephemeral.js';
import { fingerprintOfPem } from '../tls/fingerprint.js';
import { checkPem } from '../tls/pem.js';
import {
  type CertificatePair,
  checkPair,
  TLS_SERVER_DEFAULTS,
  type TlsServerOptions,
} from '../tls/server.js';
import { readFileFlag } from './files.js';
import type { Output } from './output.js';
import type { ServerFlags } from './server-flags.js';

/**
 * A serve command's certificate: read from --cert/--key (and --client-ca)
 * with errors naming the flag and the file, made once when ephemeral, and
 * reloaded on SIGHUP.
 */

/** FLAG_OF names the command-line flag behind each library TLS option, for errors. */
const FLAG_OF: Record<string, string> = {
  'tls.cert': '--cert',
  'tls.key': '--key',
  'tls.clientCA': '--client-ca',
};

/** asFlagError turns the library's `tls.key: …` into `--key: FILE …`, naming the flag and the file. */
function asFlagError(err: unknown, files: Record<string, string>): unknown {
  if (!(err instanceof InvalidArgumentError)) return err;
  const flag = FLAG_OF[err.option] ?? err.option;
  let reason = err.message.slice(err.option.length + 2);
  for (const [option, f] of Object.entries(FLAG_OF)) reason = reason.replaceAll(option, f);
  const file = files[flag];
  return new InvalidArgumentError(flag, file === undefined ? reason : `${file} ${reason}`);
}

/**
 * tlsFlagError names the flag and file behind a TLS option the library
 * refused when listening (`tls.clientCA: …` becomes `--client-ca: FILE …`).
 */
export function tlsFlagError(err: unknown, flags: Pick<ServerFlags, 'cert' | 'key' | 'clientCa'>): unknown {
  const files: Record<string, string> = {};
  if (flags.cert !== undefined) files['--cert'] = flags.cert;
  if (flags.key !== undefined) files['--key'] = flags.key;
  if (flags.clientCa !== undefined) files['--client-ca'] = flags.clientCa;
  return err instanceof InvalidArgumentError && err.option.startsWith('tls.') ? asFlagError(err, files) : err;
}

/** readPair reads --cert and --key and checks that they are PEM and belong together. */
export async function readPair(certFile: string, keyFile: string): Promise<CertificatePair> {
  const pair = { cert: await readFileFlag('--cert', certFile), key: await readFileFlag('--key', keyFile) };
  try {
    checkPair(pair);
  } catch (err) {
    throw asFlagError(err, { '--cert': certFile, '--key': keyFile });
  }
  return pair;
}

/** readClientCa reads --client-ca: the CA certificates (PEM) a client certificate must come from. */
export async function readClientCa(file: string): Promise<Buffer> {
  const ca = await readFileFlag('--client-ca', file);
  try {
    checkPem('tls.clientCA', ca, 'CERTIFICATE');
  } catch (err) {
    throw asFlagError(err, { '--client-ca': file });
  }
  return ca;
}

/**
 * ephemeralHosts are the names an ephemeral certificate is made for: the
 * usual loopback names, and the host of the address when it names one, so
 * a client that checks names rather than pinning can use it too.
 */
export function ephemeralHosts(address: string, unix: boolean): string[] {
  const hosts = [...TLS_SERVER_DEFAULTS.hosts];
  if (unix) return hosts;
  try {
    const { host } = splitHostPort(address);
    if (host !== '' && host !== '0.0.0.0' && host !== '::' && !hosts.includes(host)) hosts.push(host);
  } catch {
    // listen() reports a bad address in its own words
  }
  return hosts;
}

/** ephemeralPair makes the self-signed certificate a --workers primary hands to every worker. */
export async function ephemeralPair(hosts: readonly string[]): Promise<{ cert: string; key: string }> {
  const e = await selfSigned(hosts);
  return { cert: e.cert, key: e.key };
}

/** fingerprintOf is the `sha256:<hex>` a client pins, for a certificate in hand. */
export function fingerprintOf(pair: CertificatePair): string {
  return fingerprintOfPem(pair.cert);
}

/**
 * tlsOptions is the listener's `tls` option: the certificate given (from
 * files, or the primary's ephemeral one), or `hosts` for listen() to make
 * one; the client CA; the handshake timeout; the protocol's ALPN.
 */
export function tlsOptions(
  flags: Pick<ServerFlags, 'handshakeTimeout'>,
  o: { pair?: CertificatePair; hosts: readonly string[]; clientCa?: Buffer; alpn?: readonly string[] },
): TlsServerOptions {
  return {
    ...(o.pair ? { cert: o.pair.cert, key: o.pair.key } : { hosts: o.hosts }),
    ...(o.clientCa ? { clientCA: o.clientCa } : {}),
    ...(o.alpn ? { alpn: o.alpn } : {}),
    handshakeTimeout: flags.handshakeTimeout,
  };
}

/**
 * reloadCertificate is what SIGHUP does: read --cert and --key again and
 * serve them to new connections (open ones keep theirs). A pair that does
 * not load leaves the old certificate in place, and the `reload` event
 * says why (`ok: false`, `reason`).
 */
export async function reloadCertificate(
  listener: Listener,
  flags: Pick<ServerFlags, 'cert' | 'key'>,
  out: Output,
  tag: Record<string, unknown>,
): Promise<void> {
  const before = listener.tls?.fingerprint;
  if (flags.cert === undefined || flags.key === undefined) {
    out.note(
      'reload',
      { ok: true, reloaded: false, ...tag },
      `SIGHUP: nothing to reload${before ? ' (the certificate is ephemeral)' : ''}`,
    );
    return;
  }
  try {
    listener.setCertificate(await readPair(flags.cert, flags.key));
    const now = listener.tls?.fingerprint;
    out.note(
      'reload',
      { ok: true, reloaded: true, fingerprint: now, ...tag },
      `reloaded ${flags.cert}: tls ${now}`,
    );
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const code = err instanceof NetkitError ? err.code : undefined;
    out.note(
      'reload',
      { ok: false, reason, code, fingerprint: before, ...tag },
      `reload failed, kept the old certificate (tls ${before}): ${reason}`,
    );
  }
}
