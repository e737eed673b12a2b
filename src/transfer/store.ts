import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TransferError } from '../errors.js';
import { hashPrefix, lstatOrNull, readMeta } from './fs-checks.js';
import { IncomingFile, writeError } from './incoming.js';
import { checkRelativePath, quote } from './paths.js';
import type { DirEntry, FileEntry } from './protocol.js';

/** OverwritePolicy says what happens to a file that already exists. */
export type OverwritePolicy = 'refuse' | 'overwrite' | 'skip';

/** PART and META name the partial file and what is needed to resume it. */
export const PART = '.part';
export const META = '.part.meta';

/** FilePlan is what the receiver will do with an announced file. */
export type FilePlan =
  | { action: 'skip' }
  | { action: 'write'; offset: number; prefix?: string; resumeHash?: Hash; target: string };

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const REOPEN = constants.O_WRONLY | constants.O_NOFOLLOW;

/**
 * Store is the receiving directory. Every path is checked (paths.ts), every
 * parent directory is walked with lstat so a symlink planted anywhere on the
 * way is refused rather than followed, and files are written as
 * `name.part` and moved to their name only once their SHA-256 matched: the
 * final name never holds a partial file. Without overwrite the move is a
 * hard link, which fails if the name appeared meanwhile, so nothing is ever
 * replaced by accident.
 */
export class Store {
  readonly root: string;
  readonly policy: OverwritePolicy;
  readonly maxFileBytes: number;
  /** fsync makes each file durable before it gets its name (survives power loss, not just a killed process). */
  readonly fsync: boolean;
  /** busy holds targets being written by some connection: two senders never write one file. */
  static readonly #busy = new Set<string>();
  #dirs: { abs: string; mode: number; mtime: number }[] = [];

  constructor(root: string, policy: OverwritePolicy, maxFileBytes: number, fsync = false) {
    this.root = root;
    this.fsync = fsync;
    this.policy = policy;
    this.maxFileBytes = maxFileBytes;
  }

  /** resolve checks a peer's path and returns its absolute target, its parents made safe (and created). */
  async #resolve(rel: string): Promise<string> {
    const parts = checkRelativePath(rel);
    let dir = this.root;
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part);
      const st = await lstatOrNull(dir);
      if (st === null) {
        await fs.mkdir(dir, { mode: 0o755 }).catch(async (err) => {
          // Another connection may have made it; anything else is an error, checked below.
          if (err.code !== 'EEXIST') throw writeError(rel, err);
        });
        const again = await lstatOrNull(dir);
        if (again?.isDirectory() !== true) throw pathError(rel, `${quote(rel)}: a parent is not a directory`);
      } else if (st.isSymbolicLink()) {
        throw pathError(rel, `${quote(rel)}: parent ${quote(path.relative(this.root, dir))} is a symlink`);
      } else if (!st.isDirectory()) {
        throw pathError(
          rel,
          `${quote(rel)}: parent ${quote(path.relative(this.root, dir))} is not a directory`,
        );
      }
    }
    return path.join(dir, parts.at(-1)!);
  }

  /** prepareDir creates an announced directory; its mode and time are applied by finishDirs(). */
  async prepareDir(entry: DirEntry): Promise<void> {
    const abs = await this.#resolve(entry.path);
    const st = await lstatOrNull(abs);
    if (st === null)
      await fs.mkdir(abs, { mode: 0o755 }).catch((err) => {
        if (err.code !== 'EEXIST') throw writeError(entry.path, err);
      });
    else if (st.isSymbolicLink()) throw pathError(entry.path, `${quote(entry.path)} is a symlink`);
    else if (!st.isDirectory()) {
      throw new TransferError(
        'NETKIT_TRANSFER_EXISTS',
        `${quote(entry.path)} exists and is not a directory`,
        {
          path: entry.path,
        },
      );
    }
    this.#dirs.push({ abs, mode: entry.mode & 0o777, mtime: entry.mtime });
  }

  /**
   * planFile decides what to do with an announced file: skip it, write it
   * from the start, or resume a `.part` left by an interrupted transfer of
   * the same file (same size and mtime). For a resume it hashes the bytes
   * already there; the sender compares that with its own, so the offset is
   * verified, and the hash state carries on so the final checksum covers
   * the whole file.
   */
  async planFile(entry: FileEntry, options: { resume?: boolean } = {}): Promise<FilePlan> {
    if (entry.size > this.maxFileBytes) {
      throw new TransferError(
        'NETKIT_TRANSFER_LIMIT',
        `${quote(entry.path)} is ${entry.size} bytes, over the receiver's limit of ${this.maxFileBytes}`,
        { path: entry.path },
      );
    }
    const target = await this.#resolve(entry.path);
    if (Store.#busy.has(target)) {
      throw new TransferError(
        'NETKIT_TRANSFER_EXISTS',
        `${quote(entry.path)} is being received by another transfer`,
        {
          path: entry.path,
        },
      );
    }
    const st = await lstatOrNull(target);
    if (st?.isDirectory()) {
      throw new TransferError('NETKIT_TRANSFER_EXISTS', `${quote(entry.path)} exists and is a directory`, {
        path: entry.path,
      });
    }
    if (st !== null) {
      if (this.policy === 'skip') return { action: 'skip' };
      if (this.policy === 'refuse') {
        throw new TransferError(
          'NETKIT_TRANSFER_EXISTS',
          `${quote(entry.path)} exists (the receiver allows neither overwrite nor skip-existing)`,
          { path: entry.path },
        );
      }
    }
    const part = await lstatOrNull(target + PART);
    if (part === null) return { action: 'write', offset: 0, target };
    if (!part.isFile()) throw pathError(entry.path, `${quote(entry.path + PART)} is not a regular file`);
    const meta = await readMeta(target + META);
    if (meta === null && this.policy !== 'overwrite') {
      throw new TransferError(
        'NETKIT_TRANSFER_EXISTS',
        `${quote(entry.path + PART)} exists and is not a partial file netkit left`,
        { path: entry.path },
      );
    }
    const same =
      options.resume !== false && meta !== null && meta.size === entry.size && meta.mtime === entry.mtime;
    if (!same || part.size > entry.size || part.size === 0) return { action: 'write', offset: 0, target };
    const resumeHash = await hashPrefix(target + PART, part.size);
    return {
      action: 'write',
      offset: part.size,
      prefix: resumeHash.copy().digest('hex'),
      resumeHash,
      target,
    };
  }

  /**
   * open starts writing a planned file at `offset` (the plan's, or 0 when the
   * sender's bytes differ from the partial file's). The `.part` is opened
   * without following symlinks, and its directory is checked again after
   * opening, so a parent swapped for a symlink after planning is caught.
   */
  async open(
    entry: FileEntry,
    plan: Extract<FilePlan, { action: 'write' }>,
    offset: number,
  ): Promise<IncomingFile> {
    const { target } = plan;
    Store.#busy.add(target);
    try {
      const resume = offset > 0 && offset === plan.offset;
      if (!resume) {
        await fs.rm(target + PART, { force: true });
        await fs.rm(target + META, { force: true });
        await fs.writeFile(target + META, JSON.stringify({ v: 1, size: entry.size, mtime: entry.mtime }), {
          flag: 'wx',
          mode: 0o600,
        });
      }
      const fh = await fs.open(target + PART, resume ? REOPEN : NEW_FILE, 0o600);
      const real = await fs.realpath(path.dirname(target + PART));
      if (real !== path.dirname(target)) {
        await fh.close();
        throw pathError(entry.path, `${quote(entry.path)}: a parent directory changed into a symlink`);
      }
      const hash = resume && plan.resumeHash ? plan.resumeHash : createHash('sha256');
      return new IncomingFile(entry.path, fh, hash, resume ? offset : 0);
    } catch (err) {
      Store.#busy.delete(target);
      throw err instanceof TransferError ? err : writeError(entry.path, err);
    }
  }

  /**
   * commit gives a verified file its mode and time and moves it to its
   * name. Without overwrite the move is link() (fails if the name exists:
   * never replaces) then unlink(); file systems without hard links get a
   * check then rename(). With overwrite, rename() replaces the name itself,
   * even when it is a symlink, which is replaced rather than followed.
   */
  async commit(entry: FileEntry, target: string, file: IncomingFile): Promise<void> {
    const handle = file.handle;
    try {
      await handle.chmod(entry.mode & 0o777);
      const mtime = new Date(entry.mtime);
      await handle.utimes(mtime, mtime);
      if (this.fsync) await handle.datasync();
      await handle.close();
      if (this.policy === 'overwrite') {
        await fs.rename(target + PART, target);
      } else {
        try {
          await fs.link(target + PART, target);
          await fs.unlink(target + PART);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') {
            throw new TransferError(
              'NETKIT_TRANSFER_EXISTS',
              `${quote(entry.path)} appeared while it was received`,
              {
                path: entry.path,
              },
            );
          }
          if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
          if ((await lstatOrNull(target)) !== null)
            throw new TransferError(
              'NETKIT_TRANSFER_EXISTS',
              `${quote(entry.path)} appeared while it was received`,
              { path: entry.path },
            );
          await fs.rename(target + PART, target);
        }
      }
      await fs.rm(target + META, { force: true });
    } catch (err) {
      await handle.close().catch(() => {});
      await this.discard(target);
      throw err instanceof TransferError ? err : writeError(entry.path, err);
    } finally {
      Store.#busy.delete(target);
    }
  }

  /** keep leaves a partial file for a later resume (the connection broke). */
  release(target: string): void {
    Store.#busy.delete(target);
  }

  /** discard removes a partial file that must not be resumed (bad checksum, full disk, broken protocol). */
  async discard(target: string): Promise<void> {
    Store.#busy.delete(target);
    await fs.rm(target + PART, { force: true }).catch(() => {});
    await fs.rm(target + META, { force: true }).catch(() => {});
  }

  /** finishDirs applies announced directory modes and times, deepest first (writing files inside changes them). */
  async finishDirs(): Promise<void> {
    const dirs = this.#dirs.sort((a, b) => b.abs.length - a.abs.length);
    this.#dirs = [];
    for (const d of dirs) {
      const st = await lstatOrNull(d.abs);
      if (!st?.isDirectory()) continue;
      // The owner keeps write and search permission: later transfers may write into it.
      await fs.chmod(d.abs, d.mode | 0o700).catch(() => {});
      await fs.utimes(d.abs, new Date(d.mtime), new Date(d.mtime)).catch(() => {});
    }
  }
}

function pathError(rel: string, message: string): TransferError {
  return new TransferError('NETKIT_TRANSFER_PATH', `unsafe path ${message}`, { path: rel });
}
