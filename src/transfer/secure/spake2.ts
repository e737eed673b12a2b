/**
 * SPAKE2 (RFC 9382), ciphersuite SPAKE2-P256-SHA256-HKDF-HMAC: two sides
 * that share a short code derive a strong key, and a passive recording or an
 * active attacker learns nothing that lets them test guesses of the code
 * offline; each guess costs one live exchange.
 *
 * The group arithmetic is @noble/curves' P-256 (constant-time `multiply`
 * for every secret scalar); this file only composes its point operations
 * and encodes what RFC 9382 says goes into the transcript.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { InvalidArgumentError, TransferError } from '../../errors.js';

const Point = p256.Point;
type Point = InstanceType<typeof Point>;

/** ORDER is p in RFC 9382's notation: the prime order of P-256's group (cofactor h = 1). */
const ORDER = Point.Fn.ORDER;

/** SCALAR_BYTES is the length of p in bytes; w is padded to it in TT (RFC 9382 section 3.3). */
const SCALAR_BYTES = 32;

/** SHARE_BYTES is an uncompressed SEC1 point: 0x04 || x || y, the encoding RFC 9382's Ciphersuites section fixes for P-256. */
const SHARE_BYTES = 65;

/**
 * M and N for P-256 (RFC 9382, Ciphersuites section), compressed SEC1 as printed there.
 * They come from a published seed so nobody knows their discrete logs; the
 * proof of SPAKE2 rests on that.
 */
// No precompute() for M and N (unlike the base point): a process runs about one exchange, and building
// their tables would double its first exchange to halve later ones.
const M = Point.fromHex('02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f');
const N = Point.fromHex('03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49');

const PASSWORD_SALT = Buffer.from('netkit-spake2-p256/1', 'utf8');
const PASSWORD_INFO = Buffer.from('w', 'utf8');
const CONFIRMATION_KEYS = Buffer.from('ConfirmationKeys', 'ascii');
const EMPTY = new Uint8Array(0);

/** Spake2Role is which side of RFC 9382 this is: A sends first and masks with M, B masks with N. */
export type Spake2Role = 'A' | 'B';

/** Spake2Options are the optional inputs of one SPAKE2 exchange. */
export interface Spake2Options {
  /** identities as in RFC 9382 (default empty) */
  idA?: Uint8Array;
  idB?: Uint8Array;
  /** aad for the confirmation keys (default empty) */
  aad?: Uint8Array;
  /** secret is the ephemeral scalar x (role A) or y (role B); only for known-answer tests. Default: random in [1, n-1]. */
  secret?: bigint;
}

/**
 * passwordScalar turns a code into w: HKDF-SHA256(ikm=utf8 NFC code,
 * salt="netkit-spake2-p256/1", info="w", 48 bytes) as a big-endian integer
 * mod n. 48 bytes is 128 bits more than n needs, so the reduction's bias is
 * below 2^-128 (RFC 9382 section 3.2 suggests at least 64 extra bits).
 *
 * No memory-hard function (RFC 9382 suggests one for stored passwords): here
 * nothing is stored, the code lives only for one exchange, and SPAKE2 gives a
 * recorded or attacked exchange no way to test guesses offline, so slowing
 * each guess down would cost honest users time and buy nothing. NFC makes a
 * code typed as composed or decomposed characters the same code.
 */
export function passwordScalar(code: string): bigint {
  const ikm = Buffer.from(code.normalize('NFC'), 'utf8');
  const okm = Buffer.from(hkdfSync('sha256', ikm, PASSWORD_SALT, PASSWORD_INFO, 48));
  return BigInt(`0x${okm.toString('hex')}`) % ORDER;
}

/** Spake2Keys is what one side holds after the exchange. */
export interface Spake2Keys {
  /** ke is the shared secret Ke (16 bytes): the session key material. */
  ke: Buffer;
  /** confirm is this side's key confirmation MAC (HMAC-SHA256 with its Kc over TT), 32 bytes. */
  confirm: Buffer;
  /** verify checks the peer's confirmation MAC in constant time. */
  verify(peerConfirm: Uint8Array): boolean;
}

/**
 * Spake2 is one side of one exchange: read `share`, send it, give the
 * peer's share to `finish`, then exchange and check confirmations. The
 * ephemeral scalar is used for exactly one `finish`: RFC 9382's Security
 * Considerations forbid reusing it, since answering two peer shares with one x would
 * help a dictionary attack. Not safe to share between exchanges.
 */
export class Spake2 {
  /** share is pA (role A) or pB (role B), SEC1 uncompressed, 65 bytes. */
  readonly share: Buffer;
  readonly #role: Spake2Role;
  readonly #w: bigint;
  readonly #idA: Uint8Array;
  readonly #idB: Uint8Array;
  readonly #aad: Uint8Array;
  #secret: bigint | undefined;

  constructor(role: Spake2Role, w: bigint, options: Spake2Options = {}) {
    if (role !== 'A' && role !== 'B')
      throw new InvalidArgumentError('role', `must be 'A' or 'B', not ${role}`);
    // w = 0 would leave the shares unmasked (pA = X): no password at all.
    if (typeof w !== 'bigint' || w <= 0n || w >= ORDER) {
      throw new InvalidArgumentError('w', 'must be a bigint in [1, n-1]; derive it with passwordScalar');
    }
    const { idA = EMPTY, idB = EMPTY, aad = EMPTY, secret = randomScalar() } = options;
    for (const [name, value] of [
      ['idA', idA],
      ['idB', idB],
      ['aad', aad],
    ] as const) {
      if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(name, 'must be a Uint8Array');
    }
    if (typeof secret !== 'bigint' || secret <= 0n || secret >= ORDER) {
      throw new InvalidArgumentError('secret', 'must be a bigint in [1, n-1]');
    }
    this.#role = role;
    this.#w = w;
    this.#idA = Uint8Array.from(idA);
    this.#idB = Uint8Array.from(idB);
    this.#aad = Uint8Array.from(aad);
    this.#secret = secret;
    // pA = w*M + x*P (A), pB = w*N + y*P (B): RFC 9382 section 3.3.
    const mask = role === 'A' ? M : N;
    this.share = Buffer.from(mask.multiply(w).add(Point.BASE.multiply(secret)).toBytes(false));
  }

  /**
   * finish takes the peer's share and derives the keys. It throws
   * TransferError NETKIT_TRANSFER_AUTH when the share is not a valid point
   * of the group, is the identity, or makes K the identity (RFC 9382,
   * Security Considerations: a received element not in the group MUST abort).
   * Call once; a second call throws NETKIT_INVALID_ARGUMENT.
   */
  finish(peerShare: Uint8Array): Spake2Keys {
    const secret = this.#secret;
    if (secret === undefined) {
      throw new InvalidArgumentError(
        'finish',
        'already called: a Spake2 answers one peer share, start a new one',
      );
    }
    this.#secret = undefined;
    const peer = decodeShare(peerShare);
    // The peer unmasks with the other constant: A removes w*N from pB, B removes w*M from pA.
    const unmasked = peer.subtract((this.#role === 'A' ? N : M).multiply(this.#w));
    // A share equal to the peer's w-mask leaves nothing to multiply: K would be the identity.
    if (unmasked.is0()) throw authError('the peer share cancels the password mask: K would be the identity');
    // K = h*x*(pB - w*N) for A, h*y*(pA - w*M) for B; h = 1 on P-256.
    const k = unmasked.multiply(secret);
    if (k.is0()) throw authError('K is the identity');

    const peerBytes = Buffer.from(peerShare);
    const [pA, pB] = this.#role === 'A' ? [this.share, peerBytes] : [peerBytes, this.share];
    const tt = transcript([this.#idA, this.#idB, pA, pB, k.toBytes(false), scalarBytes(this.#w)]);

    // Ke || Ka = Hash(TT); KcA || KcB = KDF(Ka, nil, "ConfirmationKeys" || AAD) (RFC 9382 section 4).
    const digest = createHash('sha256').update(tt).digest();
    const ke = digest.subarray(0, 16);
    const ka = digest.subarray(16);
    const kc = Buffer.from(hkdfSync('sha256', ka, EMPTY, Buffer.concat([CONFIRMATION_KEYS, this.#aad]), 32));
    const kcA = kc.subarray(0, 16);
    const kcB = kc.subarray(16);
    const [own, theirs] = this.#role === 'A' ? [kcA, kcB] : [kcB, kcA];
    const confirm = mac(own, tt);
    const expected = mac(theirs, tt);
    return {
      ke: Buffer.from(ke),
      confirm,
      verify(peerConfirm: Uint8Array): boolean {
        // The length is public (always 32 for an honest peer); only the content comparison needs constant time.
        return peerConfirm.length === expected.length && timingSafeEqual(peerConfirm, expected);
      },
    };
  }
}

/** decodeShare parses an uncompressed SEC1 point and checks it lies on P-256, naming what is wrong. */
function decodeShare(share: Uint8Array): Point {
  if (!(share instanceof Uint8Array)) throw authError('the peer share is not bytes');
  if (share.length === 1 && share[0] === 0x00) {
    throw authError('the peer share is the identity (point at infinity)');
  }
  if (share.length !== SHARE_BYTES) {
    throw authError(`the peer share is ${share.length} bytes; an uncompressed P-256 point is ${SHARE_BYTES}`);
  }
  if (share[0] !== 0x04) {
    throw authError(`the peer share starts with 0x${share[0]!.toString(16).padStart(2, '0')}, not 0x04`);
  }
  try {
    // fromBytes checks the coordinates are field elements and the curve equation holds.
    return Point.fromBytes(share);
  } catch (cause) {
    throw authError('the peer share is not a point on P-256', cause);
  }
}

/** transcript encodes TT: each field preceded by its length as 8 bytes little-endian (RFC 9382 sections 3.2 and 3.3). */
function transcript(fields: Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const field of fields) {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(field.length));
    parts.push(len, field);
  }
  return Buffer.concat(parts);
}

/** scalarBytes is w big-endian, padded to the length of p, so TT does not reveal how long w is (section 3.3). */
function scalarBytes(w: bigint): Buffer {
  return Buffer.from(w.toString(16).padStart(SCALAR_BYTES * 2, '0'), 'hex');
}

function mac(key: Uint8Array, tt: Uint8Array): Buffer {
  return createHmac('sha256', key).update(tt).digest();
}

/**
 * randomScalar draws uniformly from [1, n-1] by rejection sampling, as
 * RFC 9382's Security Considerations recommend; n is so close to 2^256 that a draw is
 * rejected with probability about 2^-32.
 */
function randomScalar(): bigint {
  for (;;) {
    const candidate = BigInt(`0x${randomBytes(SCALAR_BYTES).toString('hex')}`);
    if (candidate > 0n && candidate < ORDER) return candidate;
  }
}

function authError(problem: string, cause?: unknown): TransferError {
  return new TransferError('NETKIT_TRANSFER_AUTH', `SPAKE2: ${problem}; the exchange is aborted`, { cause });
}
