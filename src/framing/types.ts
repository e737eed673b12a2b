/**
 * Shared contracts of the framing module. A decoder turns an arbitrary byte
 * stream (TCP delivers bytes, not messages: one read may hold half a message
 * or three of them, the "sticky packet" problem) back into the frames the
 * peer sent; an encoder does the reverse.
 */

/**
 * FrameDecoder is an incremental, synchronous frame parser usable on any
 * byte stream.
 *
 * Emitted frames may share memory with the chunks passed to `push` (they
 * are often zero-copy `subarray`s), and a decoder may keep references to
 * the unconsumed tail of a chunk until its frame completes. Do not modify or
 * reuse a chunk's memory after pushing it; copy a frame (`Buffer.from(frame)`)
 * if you keep it while its source buffer is recycled.
 */
export interface FrameDecoder {
  /**
   * push feeds bytes; it calls onFrame synchronously for each complete
   * frame, in order. Throws FrameError; after a throw (including one thrown
   * by onFrame) the decoder is unusable and further calls throw the same
   * error.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void;
  /**
   * end signals the end of the stream. Lines and delimited frames: a final
   * unterminated frame is emitted (like Go's bufio.Scanner) unless the
   * option trailing is 'error'. Length-prefixed and uvarint: if the stream
   * stopped mid-prefix or mid-body, throws NETKIT_FRAME_TRUNCATED; a partial
   * frame is never emitted. After a clean end the decoder is empty and may
   * be reused for a new stream.
   */
  end(onFrame: (frame: Buffer) => void): void;
  /** buffered is the number of bytes received that belong to the frame not yet complete. */
  readonly buffered: number;
}

/** FrameEncoder turns payloads into framed bytes. */
export interface FrameEncoder {
  /**
   * encode returns the framed bytes as one Buffer. Throws FrameError if the
   * payload is too large for maxFrameBytes or for what the prefix can
   * express (never truncates silently), or, for line and delimiter
   * encoders, if the payload contains the delimiter (NETKIT_FRAME_INVALID).
   */
  encode(payload: Uint8Array): Buffer;
}

/** FrameFormat names a wire framing: newline, 1/2/4/8-byte length prefix, uvarint prefix, or none. */
export type FrameFormat = 'line' | 'len8' | 'len16' | 'len32' | 'len64' | 'uvarint' | 'none';

/** FRAME_FORMATS lists every FrameFormat, in the order shown to users. */
export const FRAME_FORMATS: readonly FrameFormat[] = Object.freeze([
  'line',
  'len8',
  'len16',
  'len32',
  'len64',
  'uvarint',
  'none',
] as const);

/**
 * DEFAULT_MAX_FRAME_BYTES (16 MiB) is the default frame limit of the
 * length-prefixed, uvarint and delimiter codecs. A limit is what stops a
 * hostile or broken peer from making us allocate gigabytes with one prefix.
 */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** DEFAULT_MAX_LINE_BYTES (1 MiB) is the default line limit of the line codec. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** FrameCallback receives each decoded frame. */
export type FrameCallback = (frame: Buffer) => void;

/**
 * TrailingPolicy says what a line or delimiter decoder does with bytes left
 * after the last delimiter when the stream ends: 'emit' them as a final frame
 * (Go's bufio.Scanner does this) or treat them as an 'error'
 * (NETKIT_FRAME_TRUNCATED), for protocols where every frame must be
 * terminated.
 */
export type TrailingPolicy = 'emit' | 'error';

/** TRAILING_POLICIES lists every TrailingPolicy. */
export const TRAILING_POLICIES: readonly TrailingPolicy[] = Object.freeze(['emit', 'error'] as const);
