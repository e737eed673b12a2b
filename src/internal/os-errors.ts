/**
 * What a socket's system error means, in Go's words: Go prints an errno
 * with the C library's strerror text in lower case (`dial tcp
 * 127.0.0.1:1: connect: connection refused`), where Node prints the code
 * and the syscall (`connect ECONNREFUSED 127.0.0.1:1`). Every socket error
 * message netkit makes (dial, listen, UDP, a failing connection) takes its
 * words from here, so the same errno reads the same everywhere. Files have
 * their own sentences in fs-errors.ts.
 */

/** ERRNO_TEXT is Go's text (syscall.Errno.Error() on Linux) for the errno codes sockets meet. */
const ERRNO_TEXT: Readonly<Record<string, string>> = Object.freeze({
  EACCES: 'permission denied',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EAFNOSUPPORT: 'address family not supported by protocol',
  ECONNABORTED: 'software caused connection abort',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTDOWN: 'host is down',
  EHOSTUNREACH: 'no route to host',
  EINVAL: 'invalid argument',
  EMFILE: 'too many open files',
  EMSGSIZE: 'message too long',
  ENETDOWN: 'network is down',
  ENETUNREACH: 'network is unreachable',
  ENFILE: 'too many open files in system',
  ENOBUFS: 'no buffer space available',
  ENOENT: 'no such file or directory',
  ENOTCONN: 'transport endpoint is not connected',
  ENOTDIR: 'not a directory',
  EPERM: 'operation not permitted',
  EPIPE: 'broken pipe',
  EROFS: 'read-only file system',
  ETIMEDOUT: 'connection timed out',
});

/** errnoText is Go's text for a system error code (`ECONNREFUSED` → "connection refused"), or undefined for a code it does not know. */
export function errnoText(code: unknown): string | undefined {
  return typeof code === 'string' && Object.hasOwn(ERRNO_TEXT, code) ? ERRNO_TEXT[code] : undefined;
}

/** osErrorText says why a socket call failed: Go's words for its errno, else the error's own message. */
export function osErrorText(err: unknown): string {
  const words = errnoText((err as NodeJS.ErrnoException | undefined)?.code);
  if (words !== undefined) return words;
  return err instanceof Error ? err.message : String(err);
}

/**
 * bindErrorText says why binding `port` failed, as Go does (`bind: address
 * already in use`); a refused port below 1024 says that it needs privileges.
 * An error without a known errno keeps its own message.
 */
export function bindErrorText(err: unknown, port?: number): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const words = errnoText(code);
  if (words === undefined) return err instanceof Error ? err.message : String(err);
  const privileged = code === 'EACCES' && port !== undefined && port < 1024;
  return `bind: ${words}${privileged ? ' (ports below 1024 need privileges)' : ''}`;
}
