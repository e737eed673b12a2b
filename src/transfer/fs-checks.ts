import type { Hash, Hmac } from 'node:crypto';
import fs, { constants, type Stats } from 'node:fs';

/** lstatOrNull is lstat, with null for a path that does not exist. */
export function lstatOrNull(p: string): Stats | null {
  return fs.lstatSync(p, { throwIfNoEntry: false }) ?? null;
}

/** PartMeta is what a partial file needs to be resumed: the size and mtime of the file it is part of. */
export interface PartMeta {
  v: 1;
  size: number;
  mtime: number;
}

/** readMeta reads a `.part.meta` file; null when it is missing, not a regular file, or not ours. */
export function readMeta(p: string): PartMeta | null {
  try {
    const st = fs.lstatSync(p);
    if (!st.isFile() || st.size > 4096) return null;
    const v = JSON.parse(fs.readFileSync(p, 'utf8'));
    return v?.v === 1 && Number.isSafeInteger(v.size) && typeof v.mtime === 'number' ? v : null;
  } catch {
    return null;
  }
}

/** digestPrefix feeds the first `size` bytes of a file (never through a symlink) to `hash` and returns it still open. */
export async function digestPrefix<H extends Hash | Hmac>(p: string, size: number, hash: H): Promise<H> {
  const fh = await fs.promises.open(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(Math.min(size, 1024 * 1024));
    for (let at = 0; at < size; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - at), at);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return hash;
}

/**
 * fsReason says in words why a file-system call failed, for messages people
 * read: Node's own message repeats the path raw (a name may hold escape
 * sequences) and the syscall. Unlike fileAccessError (internal/fs-errors.ts)
 * it never falls back to that message, only to the errno code: a receiver's
 * write errors go to the sender, who has no business learning its paths.
 */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'a symlink is in the way';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'ENAMETOOLONG':
      return 'name too long';
    default:
      return typeof code === 'string' ? code : 'I/O error';
  }
}
