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
