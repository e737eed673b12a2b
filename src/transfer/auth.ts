import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * The shared code (`--code WORDS`) is never sent. Each side sends a random
 * nonce, then proves it knows the code with an HMAC over both nonces and
 * its role, so a proof cannot be replayed in another session or reflected
 * back. The key is stretched with scrypt: someone who records a session can
 * test guesses offline, and scrypt makes each guess cost ~100 ms instead of
 * a microsecond. The code authenticates; it does not encrypt (see
 * docs/transfer.md).
 */

const SALT = 'netkit-transfer/1';

/** TransferKey is a code stretched once per process, not per connection. */
export class TransferKey {
  readonly #key: Buffer;

  constructor(code: string) {
    // Whitespace between words is not part of the secret: "a  b" and "a b" are the same code.
    const normalized = code.trim().split(/\s+/).join(' ').normalize('NFC');
    this.#key = scryptSync(normalized, SALT, 32, { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  }

  /** proof is what `role` sends to show it knows the code in the session of these nonces. */
  proof(role: 'sender' | 'receiver', senderNonce: string, receiverNonce: string): string {
    return createHmac('sha256', this.#key).update(`${role}\n${senderNonce}\n${receiverNonce}`).digest('hex');
  }

  /** verify checks a peer's proof in constant time. */
  verify(role: 'sender' | 'receiver', senderNonce: string, receiverNonce: string, proof: string): boolean {
    const want = Buffer.from(this.proof(role, senderNonce, receiverNonce), 'hex');
    const got = Buffer.from(proof, 'hex');
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

/** nonce is 16 random bytes as hex: the session's half of what proofs cover. */
export function nonce(): string {
  return randomBytes(16).toString('hex');
}
