import { InvalidArgumentError } from '../errors.js';

/**
 * parsePin reads a certificate pin: `sha256:` followed by 64 hex digits,
 * with or without the colons openssl prints, or by the base64 of the 32
 * bytes. Returns the normalised `sha256:<hex>`; throws
 * NETKIT_INVALID_ARGUMENT naming `option` for anything else.
 */
export function parsePin(option: string, text: string): string {
  const m = /^sha256[:/]+(.+)$/i.exec(text.trim());
  if (m) {
    const body = m[1]!;
    const hex = body.replace(/:/g, '');
    if (/^[0-9a-f]{64}$/i.test(hex)) return `sha256:${hex.toLowerCase()}`;
    const bytes = Buffer.from(body, 'base64');
    if (bytes.length === 32 && /^[A-Za-z0-9+/]{43}=?$/.test(body)) return `sha256:${bytes.toString('hex')}`;
  }
  throw new InvalidArgumentError(
    option,
    `"${text}" is not a certificate pin; use sha256:<64 hex digits>, as a --tls server prints it`,
  );
}
