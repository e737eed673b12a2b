import { createCipheriv, createDecipheriv, type DecipherGCM, hkdfSync } from 'node:crypto';
import { TransferError } from '../../errors.js';
import type { Conn } from '../../tcp/index.js';

/**
 * The record layer of an encrypted transfer (protocol 2). After the PAKE
 * both directions carry only records:
 *
 *     length (4 bytes, big-endian) ‖ AES-256-GCM(plaintext) ‖ tag (16 bytes)
 *
 * `length` counts the ciphertext and the tag and is the record's additional
 * authenticated data. The nonce is the record's sequence number in its
 * direction (4 zero bytes, then 8 bytes big-endian), never sent: a record
 * dropped, replayed or moved makes every later tag fail, and each direction
 * has its own key, so a record reflected back fails too. The plaintext is
 * the payload, a 0x01 byte, then zeros up to a multiple of PAD bytes (the
 * TLS 1.3 trick): an observer sees lengths only to the nearest PAD, so
 * names and small sizes do not show through record lengths.
 *
 * Node's AES-256-GCM (OpenSSL, AES-NI and carry-less multiply) is the
 * cipher: its tag proves every byte, so protocol 2 needs no separate
 * SHA-256 pass over the files.
 */

/** Link is what the transfer protocol reads and writes through: a Conn, or a Sealed record stream over one. */
export interface Link {
  read(options?: { signal?: AbortSignal }): Promise<Buffer | null>;
  write(data: Buffer): Promise<void>;
  /** send writes without waiting (for an error frame on the way out); failures show on the read side. */
  send(data: Buffer): unknown;
}

/**
 * MAX_PAYLOAD is the most payload one record carries; larger writes become
 * several records. A connection cut mid-record loses the whole record (its
 * bytes are never used unverified), so a resume starts at a record
 * boundary: 256 KiB keeps that loss small while a record's fixed cost (a
 * cipher context, a header, a tag) stays under 0.1 % of its bytes.
 */
export const MAX_PAYLOAD = 256 * 1024;
/** PAD is the granularity of record lengths. */
export const PAD = 256;
const TAG = 16;
/** MAX_BODY bounds a record's ciphertext and tag, checked before any of it is buffered. */
const MAX_BODY = MAX_PAYLOAD + PAD + TAG;
/** TRAILER is the end of every plaintext: 0x01, then zero padding (sliced to length). */
const TRAILER = Buffer.alloc(PAD);
TRAILER[0] = 1;
const CIPHER = 'aes-256-gcm';

/** SessionKeys are one side's keys: `send` and `receive` for records, `verify` for checking a partial file's bytes. */
export interface SessionKeys {
  send: Buffer;
  receive: Buffer;
  verify: Buffer;
}

/** sessionKeys expands the PAKE's shared secret into a key per direction and a verification key (HKDF-SHA-256). */
export function sessionKeys(ke: Uint8Array, role: 'sender' | 'receiver'): SessionKeys {
  const okm = Buffer.from(hkdfSync('sha256', ke, 'netkit-transfer/2', 'record keys and verify key', 96));
  const toReceiver = okm.subarray(0, 32);
  const toSender = okm.subarray(32, 64);
  const verify = okm.subarray(64, 96);
  return role === 'sender'
    ? { send: toReceiver, receive: toSender, verify }
    : { send: toSender, receive: toReceiver, verify };
}

function nonce(seq: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(Math.floor(seq / 2 ** 32), 4);
  iv.writeUInt32BE(seq >>> 0, 8);
  return iv;
}

/**
 * Sealed reads and writes records over a Conn. Writes are sealed
 * synchronously, in call order, so sequence numbers follow the order of
 * the calls; reads hand out a record's plaintext only after its tag
 * verified. A connection that ends inside a record ends the stream (null):
 * that is a cut connection, and the unverified bytes are never used.
 */
export class Sealed implements Link {
  readonly #conn: Conn;
  readonly #keys: SessionKeys;
  /** peer names the other side in errors. */
  readonly #peer: string;
  #sendSeq = 0;
  #recvSeq = 0;
  /** Verified plaintext not yet read: #ready from #readyAt on (an index, not shift(): a record may be many pieces). */
  #ready: Buffer[] = [];
  #readyAt = 0;
  /** Raw bytes waiting to be parsed (leftover from the handshake). */
  #raw: Buffer | null;
  // The record being read: its header, decipher, bytes of ciphertext and tag still to come, and its plaintext so far.
  #head = Buffer.alloc(4);
  #headHave = 0;
  #decipher: DecipherGCM | null = null;
  #ctLeft = 0;
  #tag = Buffer.alloc(TAG);
  #tagHave = 0;
  #out: Buffer[] = [];
  #failed: Error | null = null;

  constructor(conn: Conn, keys: SessionKeys, peer: string, leftover: Buffer | null = null) {
    this.#conn = conn;
    this.#keys = keys;
    this.#peer = peer;
    this.#raw = leftover !== null && leftover.length > 0 ? leftover : null;
  }

  /** verifyKey is the session's key for checking a partial file (HMAC-SHA-256). */
  get verifyKey(): Buffer {
    return this.#keys.verify;
  }

  write(data: Buffer): Promise<void> {
    const pieces = this.#seal(data);
    const socket = this.#conn.socket;
    socket.cork();
    for (let i = 0; i < pieces.length - 1; i++) this.#conn.send(pieces[i]!);
    const done = this.#conn.write(pieces.at(-1)!);
    socket.uncork();
    return done;
  }

  send(data: Buffer): boolean {
    const pieces = this.#seal(data);
    const socket = this.#conn.socket;
    socket.cork();
    let ok = true;
    for (const p of pieces) ok = this.#conn.send(p) && ok;
    socket.uncork();
    return ok;
  }

  /** seal turns data into records (several when over MAX_PAYLOAD): header, ciphertext pieces and tag of each. */
  #seal(data: Buffer): Buffer[] {
    const pieces: Buffer[] = [];
    for (let at = 0; at < data.length || at === 0; at += MAX_PAYLOAD) {
      const payload = data.subarray(at, at + MAX_PAYLOAD);
      const plain = Math.ceil((payload.length + 1) / PAD) * PAD;
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32BE(plain + TAG, 0);
      const cipher = createCipheriv(CIPHER, this.#keys.send, nonce(this.#sendSeq++), { authTagLength: TAG });
      cipher.setAAD(header);
      pieces.push(header);
      if (payload.length > 0) pieces.push(cipher.update(payload));
      pieces.push(cipher.update(TRAILER.subarray(0, plain - payload.length)));
      cipher.final();
      pieces.push(cipher.getAuthTag());
      if (data.length === 0) break;
    }
    return pieces;
  }

  async read(options?: { signal?: AbortSignal }): Promise<Buffer | null> {
    for (;;) {
      if (this.#failed) throw this.#failed;
      if (this.#readyAt < this.#ready.length) return this.#ready[this.#readyAt++]!;
      this.#ready = [];
      this.#readyAt = 0;
      let raw = this.#raw;
      this.#raw = null;
      if (raw === null) raw = await this.#conn.read(options);
      if (raw === null) return null;
      try {
        this.#open(raw);
      } catch (err) {
        this.#failed = err as Error;
        throw err;
      }
    }
  }

  /** open parses raw bytes into records, verifying each as it completes. */
  #open(raw: Buffer): void {
    let c = raw;
    while (c.length > 0) {
      if (this.#decipher === null) {
        const take = Math.min(4 - this.#headHave, c.length);
        c.copy(this.#head, this.#headHave, 0, take);
        this.#headHave += take;
        c = c.subarray(take);
        if (this.#headHave < 4) return;
        this.#begin();
        continue;
      }
      if (this.#ctLeft > 0) {
        const take = Math.min(this.#ctLeft, c.length);
        this.#out.push(this.#decipher.update(take === c.length ? c : c.subarray(0, take)));
        this.#ctLeft -= take;
        c = c.subarray(take);
        continue;
      }
      const take = Math.min(TAG - this.#tagHave, c.length);
      c.copy(this.#tag, this.#tagHave, 0, take);
      this.#tagHave += take;
      c = c.subarray(take);
      if (this.#tagHave === TAG) this.#finish();
    }
  }

  /** begin checks a record header before any of its body is buffered. */
  #begin(): void {
    const body = this.#head.readUInt32BE(0);
    const plain = body - TAG;
    if (body > MAX_BODY || plain < PAD || plain % PAD !== 0) {
      throw this.#broken(
        `a record length of ${body} bytes is impossible (at most ${MAX_BODY}, a multiple of ${PAD} plus ${TAG})`,
      );
    }
    const decipher = createDecipheriv(CIPHER, this.#keys.receive, nonce(this.#recvSeq), {
      authTagLength: TAG,
    });
    decipher.setAAD(this.#head);
    this.#decipher = decipher;
    this.#ctLeft = plain;
    this.#tagHave = 0;
    this.#out = [];
  }

  /** finish verifies the tag and hands out the payload without its trailer. */
  #finish(): void {
    const decipher = this.#decipher!;
    decipher.setAuthTag(this.#tag);
    try {
      decipher.final();
    } catch {
      throw this.#broken('its authentication tag does not match');
    }
    this.#recvSeq++;
    this.#decipher = null;
    this.#headHave = 0;
    const out = this.#out;
    this.#out = [];
    // The payload ends at the last non-zero byte, which must be the 0x01 marker.
    for (let i = out.length - 1; i >= 0; i--) {
      const p = out[i]!;
      let k = p.length - 1;
      while (k >= 0 && p[k] === 0) k--;
      if (k < 0) continue;
      if (p[k] !== 1) throw this.#broken('its padding is malformed');
      const pieces = out.slice(0, i);
      if (k > 0) pieces.push(p.subarray(0, k));
      // A record that arrived in many small reads (a path of tiny segments) is handed out
      // whole: one copy instead of a read per segment. Normal reads stay as they are.
      let bytes = 0;
      for (const piece of pieces) bytes += piece.length;
      if (pieces.length > 8 && bytes / pieces.length < 4096) this.#ready.push(Buffer.concat(pieces, bytes));
      else for (const piece of pieces) if (piece.length > 0) this.#ready.push(piece);
      return;
    }
    throw this.#broken('its padding is malformed');
  }

  #broken(why: string): TransferError {
    return new TransferError(
      'NETKIT_TRANSFER_INTEGRITY',
      `encrypted record ${this.#recvSeq} from the ${this.#peer} was rejected (${why}): bytes were changed, dropped, replayed or reordered on the path`,
    );
  }
}
