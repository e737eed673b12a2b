import { isNetkitError } from '../errors.js';
import type { FrameFormat } from '../framing/index.js';
import { createDecoder, createEncoder } from '../framing/index.js';
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
  return async (conn, { signal }) => {
    try {
      await conn.consumeFrames(
        createDecoder(frame, codec),
        (request) => {
          const reply = respond(request);
          if (reply !== null)
            conn.send(encoder.encode(typeof reply === 'string' ? Buffer.from(reply) : reply));
        },
        { signal },
      );
    } catch (err) {
      // Shutdown interrupted the wait for the next request: not a failure.
      if (isNetkitError(err, 'NETKIT_ABORTED') && signal.aborted) return;
      throw err;
    }
  };
}

/** echoHandler answers every frame with itself (`netkit tcp serve --echo`). */
export function echoHandler(options: Omit<FrameHandlerOptions, 'respond'> = {}): Handler {
  return frameHandler({ ...options, respond: (f) => f });
}

/** replyHandler answers every frame with a fixed text (the classic `Hello, Client!`). */
export function replyHandler(text: string, options: Omit<FrameHandlerOptions, 'respond'> = {}): Handler {
  const reply = Buffer.from(text);
  return frameHandler({ ...options, respond: () => reply });
}
