import type { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { InvalidArgumentError } from '../errors.js';
import { PIN_MISMATCH } from './failure.js';
import { fingerprintOf, parsePin } from './fingerprint.js';
import { checkPem } from './pem.js';

/** TlsClientOptions are what every netkit client takes to speak TLS. */
export interface TlsClientOptions {
  /** ca replaces the system's trusted roots with these PEM certificates (a private CA, a self-signed server). */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** insecure skips certificate checks (testing only; a pin still applies). */
  insecure?: boolean;
  /** servername is the name sent in SNI and checked against the certificate (default: the host dialled). */
  servername?: string;
  /**
   * pin accepts exactly the certificate with this SHA-256 fingerprint
   * (`sha256:<hex>`, as a `--tls` server prints it) and no other, CA or
   * not: how a client trusts a server's ephemeral certificate.
   */
  pin?: string;
  /** cert and key are a client certificate (PEM, chain allowed) for servers that require one. */
  cert?: string | Buffer;
  /** key is the client certificate's private key (PEM). */
  key?: string | Buffer;
  /** alpn lists the application protocols to offer (`http/1.1`). */
  alpn?: readonly string[];
}

/** ResolvedTlsClient is TlsClientOptions after validation. */
export interface ResolvedTlsClient {
  /** ca are the trusted roots, or undefined for the system's. */
  readonly ca: (string | Buffer)[] | undefined;
  /** insecure is true when certificate checks are skipped. */
  readonly insecure: boolean;
  /** servername is the SNI name, or undefined for the host dialled. */
  readonly servername: string | undefined;
  /** pin is the `sha256:<hex>` fingerprint accepted, normalised. */
  readonly pin: string | undefined;
  /** cert is the client certificate (PEM). */
  readonly cert: string | Buffer | undefined;
  /** key is the client certificate's private key (PEM). */
  readonly key: string | Buffer | undefined;
  /** alpn lists the application protocols offered. */
  readonly alpn: string[] | undefined;
}

/**
 * resolveTlsClient validates client TLS options up front, each failure
 * naming the option: `true` means TLS with the system's roots.
 */
export function resolveTlsClient(o: TlsClientOptions | boolean | undefined): ResolvedTlsClient | undefined {
  if (o === undefined || o === false) return undefined;
  const opts: TlsClientOptions = o === true ? {} : o;
  if (typeof opts !== 'object' || opts === null)
    throw new InvalidArgumentError('tls', 'must be true or an object');
  if (opts.insecure !== undefined && typeof opts.insecure !== 'boolean') {
    throw new InvalidArgumentError('tls.insecure', 'must be a boolean');
  }
  if (opts.servername !== undefined && (typeof opts.servername !== 'string' || opts.servername === '')) {
    throw new InvalidArgumentError('tls.servername', 'must be a non-empty host name');
  }
  if (opts.pin !== undefined && typeof opts.pin !== 'string') {
    throw new InvalidArgumentError('tls.pin', 'must be a string: sha256:<64 hex digits>');
  }
  const ca =
    opts.ca === undefined
      ? undefined
      : ((Array.isArray(opts.ca) ? opts.ca : [opts.ca]) as (string | Buffer)[]);
  for (const c of ca ?? []) checkPem('tls.ca', c, 'CERTIFICATE');
  if ((opts.cert === undefined) !== (opts.key === undefined)) {
    throw new InvalidArgumentError(
      opts.cert === undefined ? 'tls.cert' : 'tls.key',
      'cert and key go together',
    );
  }
  if (opts.cert !== undefined) checkPem('tls.cert', opts.cert, 'CERTIFICATE');
  if (opts.key !== undefined) checkPem('tls.key', opts.key, 'PRIVATE KEY');
  return Object.freeze({
    ca,
    insecure: opts.insecure === true,
    servername: opts.servername,
    pin: opts.pin === undefined ? undefined : parsePin('tls.pin', opts.pin),
    cert: opts.cert,
    key: opts.key,
    alpn: opts.alpn === undefined ? undefined : [...opts.alpn],
  });
}

/**
 * resolveSchemeTls resolves the TLS settings of a client whose URL decides
 * whether TLS is used (https:, wss:): `tls` says how (`true` or `false`
 * mean the defaults), and `ca` and `insecure` given beside it — the http
 * and WebSocket clients' shorthands — fold into it, each named as itself
 * when invalid.
 */
export function resolveSchemeTls(
  tlsOption: TlsClientOptions | boolean | undefined,
  ca: unknown,
  insecure: unknown,
): ResolvedTlsClient {
  if (insecure !== undefined && typeof insecure !== 'boolean') {
    throw new InvalidArgumentError('insecure', 'must be a boolean');
  }
  if (ca !== undefined) {
    for (const c of Array.isArray(ca) ? ca : [ca]) checkPem('ca', c, 'CERTIFICATE');
  }
  if (
    tlsOption !== undefined &&
    typeof tlsOption !== 'boolean' &&
    (typeof tlsOption !== 'object' || tlsOption === null)
  ) {
    throw new InvalidArgumentError('tls', 'must be a boolean or an object');
  }
  const base: TlsClientOptions = typeof tlsOption === 'object' ? tlsOption : {};
  if (ca !== undefined && base.ca !== undefined) {
    throw new InvalidArgumentError('ca', 'give the CA certificates once: in ca or in tls.ca');
  }
  if (insecure !== undefined && base.insecure !== undefined) {
    throw new InvalidArgumentError('insecure', 'give it once: in insecure or in tls.insecure');
  }
  return resolveTlsClient({
    ...base,
    ...(ca !== undefined ? { ca: ca as TlsClientOptions['ca'] } : {}),
    ...(insecure !== undefined ? { insecure: insecure as boolean } : {}),
  })!;
}

/**
 * tlsConnectOptions is what node:tls's connect() needs for `host`. With a
 * pin, the chain is not checked against any CA: the certificate must be the
 * pinned one, which checkPin() decides once the handshake is done — callers
 * must not write before it passes. SNI is never sent for an IP literal (RFC
 * 6066 section 3).
 */
export function tlsConnectOptions(o: ResolvedTlsClient, host: string): tls.ConnectionOptions {
  const name = o.servername ?? host.replace(/^\[|\]$/g, '');
  const opts: tls.ConnectionOptions = {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: !o.insecure && o.pin === undefined,
  };
  if (net.isIP(name) === 0) opts.servername = name;
  if (o.ca !== undefined) opts.ca = o.ca;
  if (o.cert !== undefined) opts.cert = o.cert;
  if (o.key !== undefined) opts.key = o.key;
  if (o.alpn !== undefined) opts.ALPNProtocols = o.alpn;
  if (o.servername !== undefined && net.isIP(name) !== 0 && o.pin === undefined) {
    // An IP given as the name is checked, though it cannot be sent in SNI.
    opts.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(name, cert);
  }
  return opts;
}

/** verifiedSubject is the subject of a peer certificate that was verified, for logs (`CN=alice`), or undefined. */
export function verifiedSubject(socket: net.Socket): string | undefined {
  const s = socket as tls.TLSSocket;
  if (!s.encrypted || !s.authorized) return undefined;
  const raw = s.getPeerX509Certificate?.();
  if (raw === undefined) return undefined;
  return subjectText(raw);
}

/** subjectText renders a certificate subject on one line: `CN=alice, O=Example`. */
export function subjectText(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).join(', ');
}

/**
 * checkPin is the pin check, made once the handshake is done and before
 * anything is written: undefined when there is no pin or the certificate
 * is the pinned one, else the error to fail with. (node:tls's
 * checkServerIdentity cannot do it: it is skipped whenever the chain does
 * not verify, which is exactly the self-signed case a pin is for.)
 */
export function checkPin(o: ResolvedTlsClient, socket: tls.TLSSocket): Error | undefined {
  const pin = o.pin;
  if (pin === undefined) return undefined;
  const cert = socket.getPeerX509Certificate();
  const got = cert === undefined ? 'none' : fingerprintOf(cert.raw);
  if (got === pin) return undefined;
  const err = new Error(
    `pin mismatch: the certificate's fingerprint is ${got}, not the pinned ${pin}`,
  ) as Error & {
    code: string;
  };
  err.code = PIN_MISMATCH;
  return err;
}
