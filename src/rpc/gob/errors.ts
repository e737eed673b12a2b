/**
 * GobError: the one error class of the gob codec. The decoder raises
 * NETKIT_GOB_MALFORMED (with the stream `offset`) and NETKIT_GOB_LIMIT (with
 * the `limit` hit); the encoder raises NETKIT_GOB_ENCODE (with the `path` of
 * the value that does not fit) and NETKIT_GOB_LIMIT for an oversize message.
 */
import { NetkitError } from '../../errors.js';

/** GobErrorCode is the subset of error codes a GobError carries. */
export type GobErrorCode = 'NETKIT_GOB_MALFORMED' | 'NETKIT_GOB_LIMIT' | 'NETKIT_GOB_ENCODE';

/** GobErrorDetails is the data attached to a GobError; which fields are set depends on the code. */
export interface GobErrorDetails {
  /** offset is the stream byte offset where malformed input was detected. */
  offset?: number;
  /** limit is the configured limit that was exceeded. */
  limit?: number;
  /** path names the value that could not be encoded, e.g. `Args.B` or `value.Items[2]`. */
  path?: string;
}

/** GobError is a gob decoding or encoding failure; branch on `code`. */
export class GobError extends NetkitError {
  /** code is NETKIT_GOB_MALFORMED, NETKIT_GOB_LIMIT or NETKIT_GOB_ENCODE. */
  declare readonly code: GobErrorCode;
  /** offset is where in the stream the bad bytes start, when decoding. */
  readonly offset: number | undefined;
  /** limit is the configured limit that was exceeded. */
  readonly limit: number | undefined;
  /** path names the value that could not be encoded (`Args.B`). */
  readonly path: string | undefined;

  constructor(code: GobErrorCode, message: string, details: GobErrorDetails = {}) {
    super(code, message);
    this.offset = details.offset;
    this.limit = details.limit;
    this.path = details.path;
  }
}

/** malformed builds a NETKIT_GOB_MALFORMED error at stream offset `offset`. */
export function malformed(message: string, offset: number): GobError {
  return new GobError(
    'NETKIT_GOB_MALFORMED',
    `gob: ${message} at byte ${offset}; the peer is not sending valid gob`,
    {
      offset,
    },
  );
}

/** overLimit builds a NETKIT_GOB_LIMIT error naming the option to raise. */
export function overLimit(what: string, option: string, limit: number): GobError {
  return new GobError(
    'NETKIT_GOB_LIMIT',
    `gob: ${what} exceeds ${option} (${limit}); raise ${option} or check the peer`,
    {
      limit,
    },
  );
}

/**
 * EncodeFailure is the encoder's internal signal that a value does not fit
 * its type. It is not an Error (no stack is captured): each level of the
 * value it unwinds through adds a path segment, and Encoder.encode turns it
 * into a GobError with the full path.
 */
export class EncodeFailure {
  readonly message: string;
  /** segments are added innermost first, as the failure unwinds. */
  readonly segments: string[] = [];
  constructor(message: string) {
    this.message = message;
  }
}

/** withSegment adds a path segment to an EncodeFailure passing through, and rethrows anything. */
export function withSegment(err: unknown, segment: string): never {
  if (err instanceof EncodeFailure) err.segments.push(segment);
  throw err;
}

/** encodeError turns an EncodeFailure into the GobError callers see; `root` names the top value. */
export function encodeError(f: EncodeFailure, root: string): GobError {
  let path = root;
  for (let i = f.segments.length - 1; i >= 0; i--) path += f.segments[i];
  return new GobError('NETKIT_GOB_ENCODE', `gob: cannot encode ${path}: ${f.message}`, { path });
}
