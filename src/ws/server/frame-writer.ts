import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

// A frame whose header and payload together fit in half of Buffer's pool is
// copied into one pooled buffer (no allocation of its own, one write); a larger
// one is written as header and payload, corked into one writev, as `ws` does.
const ONE_BUFFER_MAX = Buffer.poolSize >>> 1;

/**
 * FrameWriter writes unmasked, unfragmented server frames straight to the
 * socket `ws` reads from, for a connection that negotiated no extension.
 *
 * `ws.send()` spreads its options into a new object, builds a second one and
 * an array for the frame, and corks a two-buffer writev for every message:
 * more work per 64-byte echo than the frame itself. Writing the same bytes
 * here is safe while `ws`'s sender holds nothing back: with no extension it
 * queues only behind a Blob being read, and then its queued bytes show in
 * `bufferedAmount` beyond what the socket itself buffers, so such a send goes
 * through `ws` and stays in order. Other control frames (close, heartbeat
 * and RTT pings) go through `ws`, whose sender writes synchronously in the
 * same order; only the send window's probe rides with the frame it follows.
 */
export class FrameWriter {
  readonly #ws: WebSocket;
  readonly #socket: Duplex;

  /** FrameWriter is made for a connection whose `extensions` are empty. */
  constructor(ws: WebSocket, socket: Duplex) {
    this.#ws = ws;
    this.#socket = socket;
  }

  /**
   * write sends `data` as one binary (opcode 2) or text (opcode 1) frame,
   * followed by a ping carrying `ping` when given, and returns true; or it
   * returns false, having written nothing, when `ws`'s sender holds data
   * back (send both through `ws` then, to keep the order).
   */
  write(data: Uint8Array, binary: boolean, ping?: Buffer): boolean {
    const socket = this.#socket;
    if (this.#ws.bufferedAmount !== socket.writableLength) return false;
    const len = data.byteLength;
    // RFC 6455 §5.2: 7-bit length, or 126 and 16 bits, or 127 and 64 bits; a server does not mask.
    const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
    // A ping (at most 125 bytes, §5.5) rides in the same write as the frame before it: a
    // probe of the send window then costs no write of its own.
    const tail = ping === undefined ? 0 : 2 + ping.length;
    const total = head + len + tail;
    const one = total <= ONE_BUFFER_MAX;
    const frame = Buffer.allocUnsafe(one ? total : head + tail);
    frame[0] = binary ? 0x82 : 0x81;
    if (head === 2) frame[1] = len;
    else if (head === 4) {
      frame[1] = 126;
      frame.writeUInt16BE(len, 2);
    } else {
      frame[1] = 127;
      frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
      frame.writeUInt32BE(len >>> 0, 6);
    }
    if (one) {
      frame.set(data, head);
      if (ping !== undefined) putPing(frame, head + len, ping);
      socket.write(frame);
      return true;
    }
    socket.cork();
    if (ping === undefined) socket.write(frame);
    else {
      putPing(frame, head, ping);
      socket.write(frame.subarray(0, head));
    }
    socket.write(data);
    if (ping !== undefined) socket.write(frame.subarray(head));
    socket.uncork();
    return true;
  }
}

/** putPing writes a ping frame carrying `payload` (at most 125 bytes) into `buf` at `at`. */
function putPing(buf: Buffer, at: number, payload: Buffer): void {
  buf[at] = 0x89;
  buf[at + 1] = payload.length;
  buf.set(payload, at + 2);
}
