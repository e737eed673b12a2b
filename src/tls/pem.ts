import { X509Certificate } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

/**
 * checkPem makes sure `value` is PEM text holding a `label` block
 * (`CERTIFICATE`, `PRIVATE KEY` also matches `EC PRIVATE KEY` and `RSA
 * PRIVATE KEY`), so a swapped --cert/--key or a DER file is named before
 * any socket is opened.
 */
export function checkPem(option: string, value: unknown, label: string): void {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) {
    throw new InvalidArgumentError(option, 'must be PEM text or a Buffer');
  }
  const text = value.toString('latin1');
  const re = new RegExp(`-----BEGIN [A-Z ]*${label}-----`);
  if (!re.test(text)) {
    throw new InvalidArgumentError(option, `is not PEM holding a ${label} (no "-----BEGIN ${label}-----")`);
  }
}

/**
 * checkCertificates is checkPem for certificates that must also parse, each
 * of them: a CA bundle with one broken block would otherwise be cut short
 * there without a word by node:tls.
 */
export function checkCertificates(option: string, value: unknown): void {
  checkPem(option, value, 'CERTIFICATE');
  const text = (value as string | Buffer).toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      const which = blocks.length === 1 ? 'the certificate' : `certificate ${i + 1} of ${blocks.length}`;
      throw new InvalidArgumentError(option, `${which} does not parse: ${opensslReason(err)}`);
    }
  }
}

/**
 * opensslReason is the reason in an OpenSSL error's text, without the
 * codes before it: `error:05800074:x509 certificate routines::key values
 * mismatch` is "key values mismatch".
 */
export function opensslReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!message.startsWith('error:')) return message;
  return (
    message
      .split(':')
      .filter((s) => s.trim() !== '')
      .pop()
      ?.trim() ?? message
  );
}
