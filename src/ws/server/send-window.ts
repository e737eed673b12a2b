import { randomBytes } from 'node:crypto';

// Outstanding probes per peer; with one probe per quarter window a peer over its window has at most five.
const MAX_PROBES = 8;
const TOKEN_BYTES = 12;
// Tokens drawn per call into the CSPRNG: at 16 KiB messages a probe is due every 32 of them, and one
// randomBytes call per probe cost more than the probe's own frame.
const TOKENS_PER_DRAW = 64;

let tokens = Buffer.alloc(0);
let tokensAt = 0;

/**
 * nextToken returns fresh random bytes for one probe. Tokens are cut from
 * a batch drawn at once; each is other CSPRNG output than every token
 * before it, and a batch is never refilled in place (a token handed out
 * keeps its bytes), so a token seen on the wire tells nothing about the next.
 */
function nextToken(): Buffer {
  if (tokensAt === tokens.length) {
    tokens = randomBytes(TOKEN_BYTES * TOKENS_PER_DRAW);
    tokensAt = 0;
  }
  const at = tokensAt;
  tokensAt += TOKEN_BYTES;
  return tokens.subarray(at, tokensAt);
}

/**
 * SendWindow bounds what one peer may hold of what the server sent it:
 * every byte of every message the peer has not shown it read, wherever
 * that byte waits — in `ws`'s queue, the socket's write buffer, the
 * kernel's send buffer, or the peer's receive buffer.
 *
 * Counting user space alone (`bufferedAmount`) is not enough: Node has no
 * SO_SNDBUF for TCP, and Linux grows each send buffer up to
 * `net.ipv4.tcp_wmem` (4 MiB) before a write stays in user space, so a
 * room of members that never read held megabytes of kernel memory each.
 * Node cannot see how much of a write the kernel still holds either, so
 * the window is counted end to end instead: every quarter window of
 * payload the server sends a ping carrying an unguessable token, and the
 * peer's pong to it proves the peer read everything sent before it
 * (frames arrive in order, and a peer answers a ping only when it reads
 * it). `unread` is payload sent minus payload confirmed; a message that
 * would take it past `limit` is refused, and the caller drops the peer.
 * A pong that echoes no outstanding token confirms nothing.
 */
export class SendWindow {
  readonly limit: number;
  readonly #step: number;
  readonly #probes: { token: Buffer; at: number }[] = [];
  #sent = 0;
  #confirmed = 0;
  #probedAt = 0;

  constructor(limit: number) {
    this.limit = limit;
    this.#step = Math.max(1, Math.floor(limit / 4));
  }

  /** unread is the payload sent that the peer has not confirmed reading. */
  get unread(): number {
    return this.#sent - this.#confirmed;
  }

  /** fits is true when `bytes` more would keep `unread` within the limit. */
  fits(bytes: number): boolean {
    return this.#sent - this.#confirmed + bytes <= this.limit;
  }

  /**
   * sent counts `bytes` about to be sent, and returns the payload of a ping
   * to send right after them once a quarter window went unprobed (undefined
   * otherwise). The caller must send that ping: only its pong confirms.
   */
  sent(bytes: number): Buffer | undefined {
    this.#sent += bytes;
    if (this.#sent - this.#probedAt < this.#step || this.#probes.length >= MAX_PROBES) return undefined;
    this.#probedAt = this.#sent;
    // Fresh random bytes per probe: a token derived from one seen earlier would let a peer
    // that read a single ping forge the pongs of all later ones without reading anything.
    const token = nextToken();
    this.#probes.push({ token, at: this.#sent });
    return token;
  }

  /** pong confirms what was sent before the probe this pong echoes (and every earlier one); false if none. */
  pong(payload: Buffer): boolean {
    const i = this.#probes.findIndex((p) => p.token.equals(payload));
    if (i < 0) return false;
    this.#confirmed = this.#probes[i]!.at;
    this.#probes.splice(0, i + 1);
    return true;
  }
}
