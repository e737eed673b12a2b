import { constants, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Opening files below the served root so that what is checked is what is
 * opened (RELIABILITY 38). Checking a path (realpath, stat) and then opening it
 * again by name leaves a window in which a local writer can swap the file, or
 * any directory above it, for a symlink out of the root. So nothing is looked
 * up by name twice, and the kernel never follows a symlink for us:
 *
 * - Node has no openat(2), but on Linux `/proc/self/fd/N/name` is resolved as
 *   `name` inside the directory open on descriptor N (the magic link is that
 *   open directory, not a path looked up again). Opening it with O_NOFOLLOW is
 *   openat(N, name, O_NOFOLLOW).
 * - The walk starts from a descriptor for the root and opens one component at
 *   a time from the previous one: directories with O_DIRECTORY|O_NOFOLLOW, the
 *   last component with O_NOFOLLOW. A symlink makes the open fail (ELOOP); its
 *   target is read and walked the same way, `..` going up the real path walked
 *   so far and never above the root, an absolute target only if it names a
 *   path under the root. Whatever a writer swaps in, the walk reaches only
 *   objects inside the root, through directories that were real when opened.
 * - The result is checked on its descriptor (fstat) and served from it.
 * - Every open has O_NONBLOCK: opening a FIFO for reading otherwise waits for
 *   a writer, holding one of libuv's four pool threads for good, and a few such
 *   requests stop every file operation in the process. With it the open
 *   returns at once, fstat says FIFO, and it is closed and refused, as are
 *   devices (O_NOCTTY: never a controlling terminal); a socket fails to open
 *   (ENXIO). Reads of regular files ignore O_NONBLOCK.
 *
 * Without /proc (not Linux) each component is opened by its full path instead:
 * still O_NOFOLLOW on every component, so a symlink is never followed at the
 * end, but a directory swapped between two steps can redirect the walk.
 */

const { O_RDONLY, O_DIRECTORY = 0, O_NOFOLLOW = 0, O_NONBLOCK = 0, O_NOCTTY = 0 } = constants;
const DIR = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK;
const LEAF = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
/** MAX_LINKS bounds the symlinks followed in one walk, as Linux's MAXSYMLINKS (40) does for a path. */
const MAX_LINKS = 40;

/** Opened is a regular file or directory opened inside the root. */
export interface Opened {
  /** handle is the descriptor everything is checked on and served from; its owner closes it. */
  handle: FileHandle;
  stat: Stats;
  /** real is the path below the root, one name per component, no symlinks in it. */
  real: string[];
  /** base is a path that names the opened directory itself, for opening entries in it. */
  base: string;
}

let procFd: Promise<boolean> | undefined;

/** hasProcFd reports whether `/proc/self/fd/N/name` can stand in for openat(2). */
function hasProcFd(): Promise<boolean> {
  procFd ??=
    process.platform === 'linux'
      ? fs.stat('/proc/self/fd').then(
          (s) => s.isDirectory(),
          () => false,
        )
      : Promise.resolve(false);
  return procFd;
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** statusOf maps a file system error to a status: 403 for permissions, 404 for anything that is not there to serve. */
export function statusOf(err: unknown): number {
  switch (errCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return 403;
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
    case 'ELOOP':
    case 'EMLINK':
    case 'ENXIO': // a socket
    case 'ENODEV': // a device without a driver
      return 404;
    default:
      return 500;
  }
}

/**
 * open opens `where` and stats the descriptor; a status on failure, `link` for
 * a symlink and `notdir` when O_DIRECTORY met something else (a symlink among
 * them: O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR, not ELOOP).
 */
async function open(where: string, flags: number, real: string[], proc: boolean, root: string) {
  let handle: FileHandle;
  try {
    handle = await fs.open(where, flags);
  } catch (err) {
    const code = errCode(err);
    if (code === 'ELOOP' || code === 'EMLINK') return 'link'; // EMLINK: the BSDs' O_NOFOLLOW
    if (code === 'ENOTDIR' && flags & O_DIRECTORY) return 'notdir';
    return statusOf(err);
  }
  try {
    const stat = await handle.stat();
    const base = proc ? `/proc/self/fd/${handle.fd}` : path.join(root, ...real);
    return { handle, stat, real, base } satisfies Opened;
  } catch (err) {
    await handle.close();
    return statusOf(err);
  }
}

/** readTarget reads a symlink; undefined if it is no longer one (swapped back since it was opened). */
async function readTarget(where: string): Promise<string | number | undefined> {
  try {
    return await fs.readlink(where);
  } catch (err) {
    return errCode(err) === 'EINVAL' ? undefined : statusOf(err);
  }
}

/**
 * openBeneath opens `names` (path components) below `root`, a real path,
 * starting at `from` (an opened directory inside it, left open) or at the
 * root, as described above. It resolves to a regular file or directory, which
 * the caller must close, or to a status: 404 for anything missing, outside
 * the root, behind a dot-named component (also one a symlink leads to), or
 * neither file nor directory (FIFOs, sockets, devices); 403 for permissions.
 */
export async function openBeneath(
  root: string,
  names: readonly string[],
  from?: Opened,
): Promise<Opened | number> {
  const proc = await hasProcFd();
  let cur: Opened;
  let owned = from === undefined;
  if (from === undefined) {
    const top = await open(root, DIR, [], proc, root);
    if (typeof top === 'number') return top;
    if (typeof top === 'string') return 404; // the root itself was swapped for a symlink
    cur = top;
  } else {
    cur = from;
  }
  const queue = names.slice().reverse();
  let links = 0;
  try {
    for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
      if (name === '' || name === '.') continue;
      let next: Awaited<ReturnType<typeof open>>;
      if (name === '..') {
        if (cur.real.length === 0) return 404; // above the root
        // walked again from the root rather than trusting a `..` looked up by name
        next = await openBeneath(root, cur.real.slice(0, -1));
      } else {
        if (name.startsWith('.')) return 404;
        const where = `${cur.base}/${name}`;
        const last = queue.length === 0;
        next = await open(where, last ? LEAF : DIR, [...cur.real, name], proc, root);
        if (next === 'link' || next === 'notdir') {
          const target = await readTarget(where);
          if (typeof target === 'number') return target;
          if (target === undefined && next === 'notdir') return 404; // a file used as a directory
          if (++links > MAX_LINKS) return 404;
          if (target === undefined) {
            queue.push(name); // swapped back since the open: look again (bounded by MAX_LINKS)
            continue;
          }
          if (target.startsWith('/')) {
            const prefix = root.endsWith('/') ? root : `${root}/`;
            if (target !== root && !target.startsWith(prefix)) return 404; // out of the root
            queue.push(...target.slice(prefix.length).split('/').reverse());
            next = await openBeneath(root, []);
          } else {
            queue.push(...target.split('/').reverse());
            continue;
          }
        }
      }
      if (typeof next !== 'object') return next;
      const kind = next.stat;
      if (!kind.isDirectory() && (queue.length > 0 || !kind.isFile())) {
        await next.handle.close(); // a FIFO, socket or device: opened without waiting, never read
        return 404;
      }
      if (owned) await cur.handle.close();
      cur = next;
      owned = true;
    }
    if (!owned) return openBeneath(root, cur.real); // nothing walked: a handle of its own
    owned = false;
    return cur;
  } finally {
    if (owned) await cur.handle.close();
  }
}

/** statBeneath is openBeneath for a stat only: the file or directory's stat, or undefined; nothing stays open. */
export async function statBeneath(
  root: string,
  names: readonly string[],
  from?: Opened,
): Promise<Stats | undefined> {
  const found = await openBeneath(root, names, from);
  if (typeof found === 'number') return undefined;
  await found.handle.close();
  return found.stat;
}
