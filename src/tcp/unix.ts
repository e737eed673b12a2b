import { lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { ListenError } from '../errors.js';
import { errnoText, osErrorText } from '../internal/os-errors.js';

/** UNIX_PREFIX marks a Unix domain socket path where an address is expected: `unix:/run/app.sock`. */
export const UNIX_PREFIX = 'unix:';

/** StreamTarget is where a stream server listens or a stream client dials. */
export type StreamTarget =
  | {
      /** network is `unix`: a Unix domain socket. */
      network: 'unix';
      /** path is the socket's path in the file system. */
      path: string;
      /** address is unused for a Unix socket. */
      address?: undefined;
    }
  | {
      /** network is Go's network name: `tcp`, `tcp4` or `tcp6`. */
      network: string;
      /** address is `host:port` in Go's syntax. */
      address: string;
      /** path is unused for TCP. */
      path?: undefined;
    };

/**
 * streamTarget reads an address in Go's terms: `unix:/path` (or any address
 * with network `unix`) is a Unix domain socket's path; anything else is a
 * TCP `host:port` for `network`.
 */
export function streamTarget(network: string | undefined, address: string): StreamTarget {
  if (address.startsWith(UNIX_PREFIX)) return { network: 'unix', path: address.slice(UNIX_PREFIX.length) };
  if (network === 'unix') return { network: 'unix', path: address };
  return { network: network ?? 'tcp', address };
}

/**
 * clearStaleSocket makes room for a Unix socket at `path`. A socket file
 * that no process listens on any more (a server that crashed left it) is
 * removed; a live one is "address already in use", as for TCP; anything
 * that is not a socket — a regular file, a directory, a link — is never
 * removed: binding over it fails with a message naming it. In a
 * node:cluster worker a socket file is left alone: the primary binds the
 * path once for every worker, so the file is the primary's own (probing it
 * would hand a bogus connection to a sibling) or, if stale, the primary's
 * bind fails with "address already in use"; the primary clears it first.
 */
export async function clearStaleSocket(path: string, address: string): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw failed(address, osErrorText(err), err);
  }
  if (!st.isSocket()) {
    throw failed(address, `${path} exists and is not a socket; not removing it`);
  }
  // node:cluster is loaded here, not at the top: only a server binding over an
  // existing socket file asks, and a client should not pay for the module.
  const { default: cluster } = await import('node:cluster');
  if (cluster.isWorker) return;
  if (await answers(path)) throw failed(address, `bind: ${errnoText('EADDRINUSE')}`);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT')
      throw failed(address, `cannot remove stale socket ${path}: ${osErrorText(err)}`, err);
  });
}

/** answers is true when a server accepts connections on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    // ECONNREFUSED: nobody listens. Anything else (EACCES): not ours to judge; treat as live.
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED'));
  });
}

function failed(address: string, reason: string, cause?: unknown): ListenError {
  return new ListenError('NETKIT_LISTEN_FAILED', `listen unix ${address}: ${reason}`, address, { cause });
}
