import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TransferError } from '../errors.js';
import { fsReason, lstatOrNull } from './fs-checks.js';
import { checkRelativePath, quote } from './paths.js';
import type { Entry } from './protocol.js';

/** SourceEntry is an entry to send with where its bytes come from. */
export type SourceEntry = Entry & { source: string };

/** Skipped is something in a source tree that is not sent (a symlink, a socket, a device). */
export interface Skipped {
  /** path is the entry's path, relative to what was named on the command line. */
  path: string;
  /** reason says why it is not sent (symlink, socket, device, FIFO). */
  reason: string;
}

/**
 * collectSources lists what `netkit send a b dir/` sends: each argument by
 * its base name, directories recursively (parents before children) with
 * paths relative to the argument's parent, the way `scp -r` and `cp -r`
 * name them. A symlink given as an argument is followed (it was named on
 * purpose); symlinks inside directories are not, since they may point
 * anywhere, even back up the tree: they are listed as skipped. Paths are
 * checked with the receiver's rules, so a name the receiver would refuse
 * fails here, before connecting. Two arguments with the same base name are
 * an error rather than one silently replacing the other.
 */
export async function collectSources(
  args: readonly string[],
): Promise<{ entries: SourceEntry[]; skipped: Skipped[] }> {
  const entries: SourceEntry[] = [];
  const skipped: Skipped[] = [];
  const names = new Set<string>();
  for (const arg of args) {
    const st = await stat(arg).catch((err) => {
      throw sourceError(arg, `cannot read ${quote(arg)}: ${fsReason(err)}`, err);
    });
    const name = path.basename(path.resolve(arg));
    if (names.has(name)) throw sourceError(arg, `two arguments are both named ${quote(name)}`);
    names.add(name);
    checkRelativePath(name);
    if (st.isFile()) entries.push(fileEntry(name, arg, st));
    else if (st.isDirectory()) {
      entries.push({ type: 'dir', path: name, mode: st.mode & 0o7777, mtime: st.mtimeMs, source: arg });
      walk(arg, name, entries, skipped);
    } else throw sourceError(arg, `${quote(arg)} is not a regular file or directory`);
  }
  return { entries, skipped };
}

function walk(dir: string, rel: string, entries: SourceEntry[], skipped: Skipped[]): void {
  let children: string[];
  try {
    // Synchronous on purpose: thousands of small lstat calls cost far more through the thread pool.
    children = readdirSync(dir);
  } catch (err) {
    throw sourceError(dir, `cannot list ${quote(dir)}: ${fsReason(err)}`, err);
  }
  // Sorted, so a resumed transfer announces files in the same order.
  children.sort();
  for (const child of children) {
    const source = path.join(dir, child);
    const childRel = `${rel}/${child}`;
    // Gone since the listing (a file deleted meanwhile): a sentence, not a raw errno.
    const st = lstatOrNull(source);
    if (st === null) throw sourceError(source, `cannot read ${quote(source)}: it disappeared while listing`);
    if (st.isSymbolicLink()) skipped.push({ path: childRel, reason: 'symlink (not followed)' });
    else if (st.isFile()) {
      checkRelativePath(childRel);
      entries.push(fileEntry(childRel, source, st));
    } else if (st.isDirectory()) {
      checkRelativePath(childRel);
      entries.push({ type: 'dir', path: childRel, mode: st.mode & 0o7777, mtime: st.mtimeMs, source });
      walk(source, childRel, entries, skipped);
    } else skipped.push({ path: childRel, reason: 'not a regular file or directory' });
  }
}

function fileEntry(
  rel: string,
  source: string,
  st: { size: number; mode: number; mtimeMs: number },
): SourceEntry {
  return { type: 'file', path: rel, size: st.size, mode: st.mode & 0o7777, mtime: st.mtimeMs, source };
}

function sourceError(p: string, message: string, cause?: unknown): TransferError {
  return new TransferError('NETKIT_TRANSFER_SOURCE', message, { path: p, cause });
}
