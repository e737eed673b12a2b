import { TransferError } from '../errors.js';
import { safeText } from '../internal/text.js';

/** MAX_COMPONENT_BYTES is the longest file name Linux, macOS and Windows file systems all take. */
export const MAX_COMPONENT_BYTES = 255;
/** MAX_PATH_BYTES is Linux's PATH_MAX; a longer relative path could not be opened anyway. */
export const MAX_PATH_BYTES = 4096;

/**
 * UNSAFE_CHARS are characters no transferred name may hold: C0 and C1
 * controls (NUL ends a C string early; ESC starts terminal escapes that
 * could rewrite what a person sees), DEL, and the Unicode bidirectional
 * marks and overrides that make `exe.txt` display as `txt.exe`.
 */
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * checkRelativePath accepts a path a peer sent only if it names something
 * strictly inside the receiving directory, in a spelling every platform
 * reads the same way: `/`-separated, relative, no `.` or `..` components,
 * no backslashes (Windows reads `..\x` as a traversal) and no drive
 * prefix (`C:x`). Names like `file..mp4` are fine. It returns the path's
 * components. Rejections throw NETKIT_TRANSFER_PATH naming the rule, with
 * the path shown escaped so it is safe to print.
 */
export function checkRelativePath(path: string): string[] {
  const refuse = (why: string): never => {
    throw new TransferError('NETKIT_TRANSFER_PATH', `unsafe path ${quote(path)}: ${why}`, { path });
  };
  if (typeof path !== 'string' || path.length === 0) refuse('empty');
  if (UNSAFE_CHARS.test(path)) refuse('control or escape characters are not allowed');
  if (path.includes('\\')) refuse('backslashes are not allowed (Windows reads them as separators)');
  if (path.startsWith('/')) refuse('absolute paths are not allowed');
  if (/^[A-Za-z]:/.test(path)) refuse('drive paths are not allowed');
  if (/\p{Cs}/u.test(path)) refuse('not valid Unicode (a lone surrogate)');
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_PATH_BYTES) refuse(`${bytes} bytes is over the ${MAX_PATH_BYTES}-byte limit`);
  const parts = path.split('/');
  for (const part of parts) {
    if (part === '' || part === '.') refuse('empty or "." components are not allowed');
    if (part === '..') refuse('".." components are not allowed');
    const n = Buffer.byteLength(part);
    if (n > MAX_COMPONENT_BYTES)
      refuse(`a component of ${n} bytes is over the ${MAX_COMPONENT_BYTES}-byte limit`);
  }
  return parts;
}

/** quote shows an untrusted path safely: escapes instead of control bytes, cut to a readable length. */
export function quote(path: string): string {
  const shown = safeMessage(String(path));
  // Already escaped: only the quote mark needs one more, so `\x1b` prints as itself.
  const cut = shown.length > 120 ? `${shown.slice(0, 60)}…${shown.slice(-40)}` : shown;
  return `"${cut.replaceAll('"', '\\"')}"`;
}

/** safeMessage makes peer-supplied text printable: control characters, tabs and bidirectional marks become escapes. */
export function safeMessage(text: string): string {
  return safeText(text, { keepTabs: false });
}
