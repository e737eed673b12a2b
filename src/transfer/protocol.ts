import { NetkitError, type TransferCode, TransferError } from '../errors.js';
import { quote, safeMessage } from './paths.js';

/**
 * The netkit transfer protocol. The sender dials and writes the magic
 * (`\0NKXF` and a version byte); from then on both sides exchange control
 * frames (a 4-byte big-endian length, then a JSON object with a `type`), and
 * file bytes travel raw between a `data` frame and an `end` frame, exactly as
 * many as the file header announced. docs/transfer.md walks through a session.
 *
 * Version 2 (the default) starts with a SPAKE2 exchange on the code in
 * cleartext frames, then runs everything after it, the same frames and
 * bytes, inside AES-256-GCM records (secure/sealed.ts). Version 1 (`plain`)
 * is the same protocol in the clear, with an optional HMAC proof of a code
 * and a SHA-256 per file.
 *
 * The magic starts with NUL so that a classic receiver (which takes the first
 * read as a file name) can never mistake it for a name, and a netkit
 * receiver can tell a classic sender at once.
 */
export const MAGIC_PREFIX = Buffer.from([0x00, 0x4e, 0x4b, 0x58, 0x46]); // "\0NKXF"
/** PROTOCOL_VERSION is the encrypted protocol; PLAIN_VERSION the cleartext one. */
export const PROTOCOL_VERSION = 2;
/** PLAIN_VERSION is the cleartext protocol (`--plain`): a SHA-256 per file, no encryption. */
export const PLAIN_VERSION = 1;
/** magicOf is the magic of a protocol version. */
export function magicOf(version: number): Buffer {
  return Buffer.concat([MAGIC_PREFIX, Buffer.of(version)]);
}
/** MAGIC is the current protocol's magic (version 2). */
export const MAGIC = magicOf(PROTOCOL_VERSION);
/** MAX_FRAME_BYTES bounds a control frame; the largest (a file header) needs well under 5 KiB. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** BATCH_ENTRIES is how many entries the sender announces before the receiver answers them. */
export const BATCH_ENTRIES = 1000;

/** FileEntry announces a regular file. */
export interface FileEntry {
  type: 'file';
  path: string;
  size: number;
  mode: number;
  /** mtime is the modification time in milliseconds since the epoch. */
  mtime: number;
}
/** DirEntry announces a directory (so empty ones arrive, and their modes and times). */
export interface DirEntry {
  type: 'dir';
  path: string;
  mode: number;
  mtime: number;
}
export type Entry = FileEntry | DirEntry;

/** Frame is every control frame; which side may send which is checked where they are read. */
export type Frame =
  /** hello: version 1 carries `nonce` (and the receiver's `auth`); version 2 carries the SPAKE2 share `pake` (and the receiver's key `confirm`ation). */
  | { type: 'hello'; version: number; nonce?: string; auth?: boolean; pake?: string; confirm?: string }
  | { type: 'auth'; proof: string }
  | { type: 'auth-ok'; proof: string }
  /** confirm: the sender's SPAKE2 key confirmation (version 2). */
  | { type: 'confirm'; mac: string }
  /** ready: the receiver took the sender's confirmation; records follow both ways (version 2). */
  | { type: 'ready' }
  | Entry
  | { type: 'plan' }
  | { type: 'accept'; offset: number; prefix?: string }
  /** skip: `reason: 'received'` when the receiver already has the file whole (same size and time), else it keeps its own. */
  | { type: 'skip'; reason?: 'received' }
  | { type: 'data'; offset: number }
  /** end: `sha256` of the whole file in version 1; version 2 needs none (every record's tag proved its bytes). */
  | { type: 'end'; sha256?: string }
  | { type: 'done' }
  | { type: 'bye' }
  | { type: 'error'; code: string; message: string; path?: string };

/** encodeFrame serialises one control frame with its length prefix. */
export function encodeFrame(frame: Frame): Buffer {
  return encodeJsonFrame(frame);
}

/** encodeJsonFrame is the frame shape both the transfer and the rendezvous protocols use: a 4-byte big-endian length, then JSON. */
export function encodeJsonFrame(value: object): Buffer {
  const json = Buffer.from(JSON.stringify(value));
  const out = Buffer.allocUnsafe(4 + json.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  return out;
}

/** protocolError is the peer breaking the protocol. */
export function protocolError(message: string, path?: string): TransferError {
  return new TransferError('NETKIT_TRANSFER_PROTOCOL', message, { path });
}

const HEX64 = /^[0-9a-f]{64}$/;
const isUint = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * parseFrame checks a frame's JSON against the shape its type requires, so
 * the rest of the code can trust field types. Unknown fields are ignored (a
 * later version may add some); unknown types are an error.
 */
export function parseFrame(body: Buffer): Frame {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw protocolError('a control frame is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw protocolError('a control frame is not an object');
  const bad = (field: string): never => {
    throw protocolError(`a "${String(v.type)}" frame has a missing or invalid "${field}"`);
  };
  switch (v.type) {
    case 'hello': {
      if (!isUint(v.version)) bad('version');
      if (v.version === PLAIN_VERSION) {
        if (typeof v.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(v.nonce)) bad('nonce');
        return { type: 'hello', version: 1, nonce: v.nonce as string, auth: v.auth === true };
      }
      if (v.version !== PROTOCOL_VERSION) return { type: 'hello', version: v.version as number };
      // An uncompressed P-256 point: 65 bytes.
      if (typeof v.pake !== 'string' || !/^[0-9a-f]{130}$/.test(v.pake)) bad('pake');
      if (v.confirm !== undefined && (typeof v.confirm !== 'string' || !HEX64.test(v.confirm)))
        bad('confirm');
      return {
        type: 'hello',
        version: 2,
        pake: v.pake as string,
        ...(v.confirm !== undefined ? { confirm: v.confirm as string } : {}),
      };
    }
    case 'confirm':
      if (typeof v.mac !== 'string' || !HEX64.test(v.mac)) bad('mac');
      return { type: 'confirm', mac: v.mac as string };
    case 'auth':
    case 'auth-ok':
      if (typeof v.proof !== 'string' || !HEX64.test(v.proof)) bad('proof');
      return { type: v.type, proof: v.proof as string };
    case 'file':
    case 'dir': {
      if (typeof v.path !== 'string') bad('path');
      if (!isUint(v.mode) || (v.mode as number) > 0o7777) bad('mode');
      if (typeof v.mtime !== 'number' || !Number.isFinite(v.mtime)) bad('mtime');
      const base = { path: v.path as string, mode: v.mode as number, mtime: v.mtime as number };
      if (v.type === 'dir') return { type: 'dir', ...base };
      if (!isUint(v.size)) bad('size');
      return { type: 'file', ...base, size: v.size as number };
    }
    case 'accept':
      if (!isUint(v.offset)) bad('offset');
      if (v.prefix !== undefined && (typeof v.prefix !== 'string' || !HEX64.test(v.prefix))) bad('prefix');
      return { type: 'accept', offset: v.offset as number, prefix: v.prefix as string | undefined };
    case 'data':
      if (!isUint(v.offset)) bad('offset');
      return { type: 'data', offset: v.offset as number };
    case 'end':
      if (v.sha256 === undefined) return { type: 'end' };
      if (typeof v.sha256 !== 'string' || !HEX64.test(v.sha256)) bad('sha256');
      return { type: 'end', sha256: v.sha256 as string };
    case 'skip':
      // Any other reason (a later version's) is a plain skip: the receiver keeps what it has either way.
      return v.reason === 'received' ? { type: 'skip', reason: 'received' } : { type: 'skip' };
    case 'plan':
    case 'ready':
    case 'done':
    case 'bye':
      return { type: v.type };
    case 'error':
      if (typeof v.code !== 'string') bad('code');
      if (typeof v.message !== 'string') bad('message');
      return {
        type: 'error',
        code: v.code as string,
        message: v.message as string,
        path: typeof v.path === 'string' ? v.path : undefined,
      };
    default:
      throw protocolError(`unknown frame type ${quote(String(v.type).slice(0, 40))}`);
  }
}

/** expectFrame narrows a frame to the type(s) wanted; an `error` frame from the peer becomes its TransferError. */
export function expectFrame<T extends Frame['type']>(
  frame: Frame,
  ...types: T[]
): Extract<Frame, { type: T }> {
  if ((types as string[]).includes(frame.type)) return frame as Extract<Frame, { type: T }>;
  if (frame.type === 'error') throw remoteError(frame);
  throw protocolError(`expected a "${types.join('" or "')}" frame, got "${frame.type}"`);
}

/** REMOTE_CODE is what a peer's code must look like to be kept: a transfer code, in letters a terminal shows as they are. */
const REMOTE_CODE = /^NETKIT_TRANSFER_[A-Z_]{1,40}$/;

/**
 * remoteError turns the peer's `error` frame into a TransferError with the
 * peer's code, when it is a transfer code (a newer peer's code included);
 * anything else, an escape sequence dressed as a code too, becomes
 * NETKIT_TRANSFER_PROTOCOL.
 */
export function remoteError(frame: Extract<Frame, { type: 'error' }>): TransferError {
  const code = (REMOTE_CODE.test(frame.code) ? frame.code : 'NETKIT_TRANSFER_PROTOCOL') as TransferCode;
  // The peer's text reaches a terminal: escape it, and bound it.
  const message = safeMessage(frame.message.slice(0, 1000));
  return new TransferError(code, `peer: ${message}`, { path: frame.path, remote: true });
}

/**
 * errorFrame reports a failure to the peer. netkit errors go as they are
 * (their messages name paths relative to the transfer); anything else is
 * summarised by its errno code, so the receiver's absolute paths and
 * internals stay private.
 */
export function errorFrame(err: unknown): Frame {
  if (err instanceof NetkitError) {
    const path = (err as { path?: unknown }).path;
    return {
      type: 'error',
      code: err.code,
      message: err.message,
      ...(typeof path === 'string' ? { path } : {}),
    };
  }
  const errno = (err as { code?: unknown }).code;
  return {
    type: 'error',
    code: 'NETKIT_TRANSFER_WRITE',
    message: `the receiver failed${typeof errno === 'string' ? ` (${errno})` : ''}`,
  };
}
