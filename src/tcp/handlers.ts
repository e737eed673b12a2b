import { isNetkitError } from '../errors.js';
import type { FrameFormat } from '../framing/index.js';
import { createDecoder, createEncoder, type LineDecoder, type LineEncoder } from '../framing/index.js';
import type { FrameDecoder } from '../framing/types.js';
import type { Conn } from './conn.js';
import { LineEchoDecoder } from './line-echo.js';
import type { Handler } from './serve.js';

/** FrameHandlerOptions configures frameHandler. */
export interface FrameHandlerOptions {
  /** frame is the framing on the wire; `none` treats each received chunk as a message. */
  frame?: FrameFormat;
  /** maxFrameBytes caps one request frame; a larger one fails the connection with NETKIT_FRAME_TOO_LARGE. */
  maxFrameBytes?: number;
  /** respond turns one request frame into a reply payload (framed the same way), or null for no reply. */
  respond: (frame: Buffer) => Uint8Array | string | null;
}

/**
 * frameHandler builds a serve() handler that reads frames and answers each
 * one synchronously (Conn.consumeFrames, no promise per message). On
 * graceful shutdown it stops after the frames already received, so the
 * connection closes with FIN. An oversize frame ends the connection with
 * NETKIT_FRAME_TOO_LARGE; other clients are unaffected.
 */
export function frameHandler(options: FrameHandlerOptions): Handler {
  const frame = options.frame ?? 'line';
  const codec = { maxFrameBytes: options.maxFrameBytes };
  createDecoder(frame, codec); // validate options now, not on the first connection
  const encoder = createEncoder(frame, codec);
  const respond = options.respond;
  return consumeHandler(
    () => createDecoder(frame, codec),
    (conn) => (request) => {
      const reply = respond(request);
      if (reply !== null) conn.send(encoder.encode(typeof reply === 'string' ? Buffer.from(reply) : reply));
    },
  );
}

/**
 * consumeHandler runs a decoder per connection through Conn.consumeFrames
 * and hands each frame to the callback `onFrames` makes for it (one
 * closure per connection, none per frame). Shutdown interrupting the wait
 * for the next frame ends the handler normally.
 */
function consumeHandler(
  newDecoder: () => FrameDecoder,
  onFrames: (conn: Conn) => (frame: Buffer) => void,
): Handler {
  return async (conn, { signal }) => {
    try {
      await conn.consumeFrames(newDecoder(), onFrames(conn), { signal });
    } catch (err) {
      // Shutdown interrupted the wait for the next request: not a failure.
      if (isNetkitError(err, 'NETKIT_ABORTED') && signal.aborted) return;
      throw err;
    }
  };
}

/**
 * echoHandler answers every frame with itself (`netkit tcp serve --echo`).
 * With line framing, a received chunk made only of whole lines that would
 * come back unchanged is written back as it is, in one write (see
 * LineEchoDecoder); the bytes on the wire, the limits and the errors are
 * those of echoing line by line.
 */
export function echoHandler(options: Omit<FrameHandlerOptions, 'respond'> = {}): Handler {
  const frame = options.frame ?? 'line';
  if (frame !== 'line') return frameHandler({ ...options, respond: (f) => f });
  const codec = { maxFrameBytes: options.maxFrameBytes };
  createDecoder(frame, codec); // validate options now, naming maxFrameBytes
  // For 'line' these are a LineDecoder and a LineEncoder, whose limits LineEchoDecoder reads.
  const encoder = createEncoder(frame, codec) as LineEncoder;
  return consumeHandler(
    () => new LineEchoDecoder(createDecoder(frame, codec) as LineDecoder, encoder),
    (conn) => (wire) => {
      conn.send(wire);
    },
  );
}

/** replyHandler answers every frame with a fixed text (the classic `Hello, Client!`). */
export function replyHandler(text: string, options: Omit<FrameHandlerOptions, 'respond'> = {}): Handler {
  const reply = Buffer.from(text);
  return frameHandler({ ...options, respond: () => reply });
}
