import { FileAccessError } from '../errors.js';

/** REASONS says in words what the common errno codes mean for a named file. */
const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'a file of that name is in the way',
  ELOOP: 'too many symbolic links (or a symbolic link where none is allowed)',
  ENAMETOOLONG: 'the name is too long',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EMFILE: 'too many open files in this process',
};

/**
 * fileAccessError turns a Node file-system error about `path` into a
 * FileAccessError whose message says what was being done and why it failed
 * in words (`cannot read --data-file "body.json": no such file or
 * directory`), keeping the system error as `cause`.
 */
export function fileAccessError(path: string, doing: string, err: unknown): FileAccessError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = (code && REASONS[code]) ?? (err instanceof Error ? err.message : String(err));
  return new FileAccessError(
    path,
    `cannot ${doing} ${JSON.stringify(path)}: ${why}${code ? ` (${code})` : ''}`,
    {
      cause: err,
    },
  );
}

/** isFsError says whether `err` is a Node system error about a path (fs calls set `path` and `syscall`). */
export function isFsError(err: unknown): err is NodeJS.ErrnoException & { path: string } {
  const e = err as NodeJS.ErrnoException | undefined;
  return (
    e instanceof Error &&
    typeof e.code === 'string' &&
    typeof e.path === 'string' &&
    typeof e.syscall === 'string'
  );
}
