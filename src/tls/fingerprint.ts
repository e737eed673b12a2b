import { createHash, X509Certificate } from 'node:crypto';

/**
 * fingerprintOf is `sha256:` and the lower-case hex SHA-256 of a
 * certificate's DER bytes: what `openssl x509 -fingerprint -sha256` shows,
 * without the colons, and what `--pin` takes.
 */
export function fingerprintOf(der: Buffer | Uint8Array): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** fingerprintOfPem is fingerprintOf for the first certificate in PEM text (a chain's leaf). */
export function fingerprintOfPem(pem: string | Buffer): string {
  return fingerprintOf(new X509Certificate(pem).raw);
}

// parsePin lives apart so that a command can check --pin without loading node:crypto.
export { parsePin } from './pin.js';
