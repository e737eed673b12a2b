import { createHash, createHmac, type Hash } from 'node:crypto';
import fs, { constants, type Stats } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransferError } from '../errors.js';
import { digestPrefix, lstatOrNull, type PartMeta, readMeta } from './fs-checks.js';
import { IncomingFile, writeError } from './incoming.js';
import { checkRelativePath, MAX_COMPONENT_BYTES, quote } from './paths.js';
import type { DirEntry, FileEntry } from './protocol.js';

/** OverwritePolicy says what happens to a file that already exists. */
export type OverwritePolicy = 'refuse' | 'overwrite' | 'skip';

/** PART and META name the partial file and what is needed to resume it. */
export const PART = '.part';
export const META = '.part.meta';

/**
 * partPath is where a file's bytes wait: `name.part`, or, for a name too
 * long to take the suffix within the 255-byte limit, a hidden
 * `.<hash>.netkit.part` beside it, so the longest valid names still arrive.
 */
export function partPath(target: string): string {
  const base = path.basename(target);
  if (Buffer.byteLength(base) + META.length <= MAX_COMPONENT_BYTES) return target + PART;
  const id = createHash('sha256').update(base).digest('hex').slice(0, 24);
  return path.join(path.dirname(target), `.${id}.netkit${PART}`);
}

/** metaPath is where the resume record of a file's part lives. */
export function metaPath(target: string): string {
  return `${partPath(target).slice(0, -PART.length)}${META}`;
}

/** WritePlan is a file the receiver will write, from `offset` (> 0: resuming a verified part). */
export interface WritePlan {
  action: 'write';
  offset: number;
  /** prefix is the digest of the part's bytes for the sender to compare: SHA-256, or in an encrypted session HMAC-SHA-256 under its verify key. */
  prefix?: string;
  /** sealed is true in an encrypted session: records' tags prove the bytes, so nothing is hashed while writing. */
  sealed?: boolean;
  /** resumeHash is the hash state after the part's bytes, so the final check covers the whole file. */
  resumeHash?: Hash;
  target: string;
  /** fresh is true when no `.part` existed at planning: nothing to clear before writing. */
  fresh?: boolean;
}
/**
 * SkipPlan is a file the receiver leaves alone: `received` when it already
 * has it whole (see alreadyReceived), `exists` when it keeps another file
 * by that name (policy 'skip').
 */
export interface SkipPlan {
  action: 'skip';
  why: 'received' | 'exists';
}
/** FilePlan is what the receiver will do with an announced file. */
export type FilePlan = SkipPlan | WritePlan;

/**
 * STALE_MS is how long the connection writing a file must have delivered
 * nothing before the same file, sent again, takes the part over. A sender
 * that lost its link (cut, black hole) retries long before the receiver's
 * idle timeout drops the dead connection, and until then that connection
 * held the file: every retry was refused as "being received by another
 * transfer". A live transfer is never silent this long, so two senders of
 * one file cannot take it from each other in turn.
 */
const STALE_MS = 1000;
/** TAKEOVER_MS bounds the wait for a dropped connection to write out its last bytes and let go of the file. */
const TAKEOVER_MS = 5000;

/** Claim is a file being received: what was announced, when its bytes last arrived, and how to drop its connection. */
interface Claim {
  target: string;
  size: number;
  mtime: number;
  lastWriteAt: () => number;
  /** drop cuts the connection writing the file (absent for the classic protocol, which cannot resume). */
  drop?: (silentMs: number) => void;
  released: Promise<void>;
  release: () => void;
}

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
 *
 * Metadata calls (lstat, open, link, chmod…) are synchronous: each takes
 * microseconds on a local file system, while a trip through the thread pool
 * costs tens, which made 10,000 small files take seconds. File contents are
 * written asynchronously (incoming.ts).
 */
export class Store {
  readonly root: string;
  readonly policy: OverwritePolicy;
  readonly maxFileBytes: number;
  /** fsync makes each file durable before it gets its name (survives power loss, not just a killed process). */
  readonly fsync: boolean;
  /** busy maps targets (and their parts) being written by some connection to its claim: two senders never write one file. */
  static readonly #busy = new Map<string, Claim>();
  #dirs: { abs: string; mode: number; mtime: number }[] = [];
  /** checked holds parent directories already walked in this transfer (re-checked after each open). */
  readonly #checked = new Set<string>();

  constructor(root: string, policy: OverwritePolicy, maxFileBytes: number, fsync = false) {
    this.root = root;
    this.fsync = fsync;
    this.policy = policy;
    this.maxFileBytes = maxFileBytes;
  }

  /** resolve checks a peer's path and returns its absolute target, its parents made safe (and created). */
  #resolve(rel: string): string {
    const parts = checkRelativePath(rel);
    let dir = this.root;
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part);
      if (this.#checked.has(dir)) continue;
      let st = lstatOrNull(dir);
      if (st === null) {
        try {
          fs.mkdirSync(dir, { mode: 0o755 });
        } catch (err) {
          // Another connection may have made it; anything else is an error, checked below.
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(rel, err);
        }
        st = lstatOrNull(dir);
      }
      const shown = quote(path.relative(this.root, dir));
      if (st?.isSymbolicLink()) throw pathError(rel, `${quote(rel)}: parent ${shown} is a symlink`);
      if (!st?.isDirectory()) throw pathError(rel, `${quote(rel)}: parent ${shown} is not a directory`);
      this.#checked.add(dir);
    }
    return path.join(dir, parts.at(-1)!);
  }

  /** prepareDir creates an announced directory; its mode and time are applied by finishDirs(). */
  prepareDir(entry: DirEntry): void {
    const abs = this.#resolve(entry.path);
    const st = lstatOrNull(abs);
    if (st?.isSymbolicLink()) throw pathError(entry.path, `${quote(entry.path)} is a symlink`);
    if (st !== null && !st.isDirectory()) {
      throw existsError(entry.path, `${quote(entry.path)} exists and is not a directory`);
    }
    if (st === null) {
      try {
        fs.mkdirSync(abs, { mode: 0o755 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(entry.path, err);
      }
    }
    this.#dirs.push({ abs, mode: entry.mode & 0o777, mtime: entry.mtime });
  }

  /**
   * planFile decides what to do with an announced file: skip it, write it
   * from the start, or resume a `.part` left by an interrupted transfer of
   * the same file (same size and mtime). A file that exists is skipped when
   * an earlier transfer already delivered it whole (alreadyReceived), unless
   * the policy is overwrite; any other is refused, or skipped with policy
   * 'skip'. For a resume it hashes the bytes already there; the sender
   * compares that with its own, so the offset is verified, and the hash
   * state carries on so the final checksum covers the whole file.
   * `classic` is for the classic protocol, whose entries carry no real size
   * or time: nothing is resumed or recognised as already received.
   */
  async planFile(
    entry: FileEntry,
    options: { classic?: boolean; verifyKey?: Buffer } = {},
  ): Promise<FilePlan> {
    const plan = await this.#plan(entry, options);
    if (plan.action === 'write' && options.verifyKey !== undefined) plan.sealed = true;
    return plan;
  }

  async #plan(entry: FileEntry, options: { classic?: boolean; verifyKey?: Buffer }): Promise<FilePlan> {
    if (entry.size > this.maxFileBytes) {
      throw new TransferError(
        'NETKIT_TRANSFER_LIMIT',
        `${quote(entry.path)} is ${entry.size} bytes, over the receiver's limit of ${this.maxFileBytes}`,
        { path: entry.path },
      );
    }
    const target = this.#resolve(entry.path);
    await Store.#takeOver(entry, target);
    const st = lstatOrNull(target);
    if (st?.isDirectory()) throw existsError(entry.path, `${quote(entry.path)} exists and is a directory`);
    if (st !== null) {
      const known = options.classic !== true;
      if (known && this.policy !== 'overwrite' && alreadyReceived(st, entry)) {
        return { action: 'skip', why: 'received' };
      }
      if (this.policy === 'skip') return { action: 'skip', why: 'exists' };
      if (this.policy === 'refuse') {
        throw existsError(
          entry.path,
          `${quote(entry.path)} exists${known ? ` ${unlike(st)}` : ''}; the receiver allows neither overwrite nor skip-existing`,
        );
      }
    }
    const part = lstatOrNull(partPath(target));
    if (part === null) return { action: 'write', offset: 0, target, fresh: true };
    if (!part.isFile()) throw pathError(entry.path, `${quote(entry.path + PART)} is not a regular file`);
    const meta = readMeta(metaPath(target));
    if (meta === null && this.policy !== 'overwrite') {
      throw existsError(
        entry.path,
        `${quote(entry.path + PART)} exists and is not a partial file netkit left`,
      );
    }
    const same =
      options.classic !== true && meta !== null && meta.size === entry.size && meta.mtime === entry.mtime;
    if (!same || part.size > entry.size || part.size === 0) return { action: 'write', offset: 0, target };
    if (options.verifyKey !== undefined) {
      const mac = await digestPrefix(partPath(target), part.size, createHmac('sha256', options.verifyKey));
      return { action: 'write', offset: part.size, prefix: mac.digest('hex'), target };
    }
    const resumeHash = await digestPrefix(partPath(target), part.size, createHash('sha256'));
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
  open(entry: FileEntry, plan: WritePlan, offset: number, drop?: (silentMs: number) => void): IncomingFile {
    const { target } = plan;
    const openedAt = performance.now();
    let file: IncomingFile | undefined;
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const claim: Claim = {
      target,
      size: entry.size,
      mtime: entry.mtime,
      lastWriteAt: () => file?.lastWriteAt ?? openedAt,
      drop,
      released,
      release,
    };
    Store.#busy.set(target, claim);
    Store.#busy.set(partPath(target), claim);
    try {
      // Checked before anything is removed or created, and again after the open (the race in between).
      this.#sameParent(entry, target);
      const resume = offset > 0 && offset === plan.offset;
      if (!resume) {
        if (!plan.fresh) unlinkIfThere(partPath(target));
        writeMeta(metaPath(target), { v: 1, size: entry.size, mtime: entry.mtime });
      }
      const fd = fs.openSync(partPath(target), resume ? REOPEN : NEW_FILE, 0o600);
      try {
        this.#sameParent(entry, target);
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
      const hash = plan.sealed ? null : resume && plan.resumeHash ? plan.resumeHash : createHash('sha256');
      file = new IncomingFile(entry.path, fd, hash, resume ? offset : 0);
      return file;
    } catch (err) {
      Store.#unbusy(target);
      throw writeError(entry.path, err);
    }
  }

  /** sameParent fails when the target's directory no longer resolves to itself (a parent became a symlink). */
  #sameParent(entry: FileEntry, target: string): void {
    const dir = path.dirname(target);
    if (fs.realpathSync.native(dir) !== dir) {
      throw pathError(entry.path, `${quote(entry.path)}: a parent directory changed into a symlink`);
    }
  }

  /**
   * commit gives a verified file its mode and time and moves it to its
   * name. Without overwrite the move is link() (fails if the name exists:
   * never replaces) then unlink(); file systems without hard links get a
   * check then rename(). With overwrite, rename() replaces the name itself,
   * even when it is a symlink, which is replaced rather than followed.
   */
  commit(entry: FileEntry, target: string, file: IncomingFile): void {
    try {
      fs.fchmodSync(file.fd, entry.mode & 0o777);
      fs.futimesSync(file.fd, entry.mtime / 1000, entry.mtime / 1000);
      if (this.fsync) fs.fdatasyncSync(file.fd);
      file.close();
      if (this.policy === 'overwrite') fs.renameSync(partPath(target), target);
      else place(entry, target);
      unlinkIfThere(metaPath(target));
    } catch (err) {
      file.close();
      this.discard(target);
      throw writeError(entry.path, err);
    } finally {
      Store.#unbusy(target);
    }
  }

  /** release leaves a partial file for a later resume (the connection broke). */
  release(target: string): void {
    Store.#unbusy(target);
  }

  static #unbusy(target: string): void {
    const claim = Store.#busy.get(target);
    Store.#busy.delete(target);
    Store.#busy.delete(partPath(target));
    claim?.release();
  }

  /** claimOf is the claim on a name: as the file, or as another file's part (`f.txt.part` while `f.txt` arrives). */
  static #claimOf(target: string): Claim | undefined {
    return Store.#busy.get(target) ?? Store.#busy.get(partPath(target));
  }

  /** discard removes a partial file that must not be resumed (bad checksum, full disk, broken protocol). */
  discard(target: string): void {
    Store.#unbusy(target);
    unlinkIfThere(partPath(target));
    unlinkIfThere(metaPath(target));
  }

  /**
   * takeOver waits until no other connection holds `target`. A connection
   * holding the same file (same name, size and time: the sender retrying
   * after its link failed) that has delivered nothing for STALE_MS is
   * dropped, as its idle timeout would drop it later; its part stays, so the
   * new connection resumes it. A holder still receiving bytes, or holding
   * another file, refuses the transfer.
   */
  static async #takeOver(entry: FileEntry, target: string): Promise<void> {
    const busy = () => existsError(entry.path, `${quote(entry.path)} is being received by another transfer`);
    let waited = false;
    for (let claim = Store.#claimOf(target); claim !== undefined; claim = Store.#claimOf(target)) {
      const same = claim.target === target && claim.size === entry.size && claim.mtime === entry.mtime;
      if (!same || claim.drop === undefined) throw busy();
      const silent = performance.now() - claim.lastWriteAt();
      if (silent < STALE_MS) {
        // The retry may come a little before the old connection has been silent long enough: look once more.
        if (waited) throw busy();
        waited = true;
        await sleep(STALE_MS - silent);
        continue;
      }
      claim.drop(Math.round(silent));
      const timer = new AbortController();
      const gone = await Promise.race([
        claim.released.then(() => true),
        sleep(TAKEOVER_MS, false, { signal: timer.signal }).catch(() => false),
      ]);
      timer.abort();
      if (!gone) throw busy();
    }
  }

  /** finishDirs applies announced directory modes and times, deepest first (writing files inside changes them). */
  finishDirs(): void {
    const dirs = this.#dirs.sort((a, b) => b.abs.length - a.abs.length);
    this.#dirs = [];
    for (const d of dirs) {
      if (lstatOrNull(d.abs)?.isDirectory() !== true) continue;
      try {
        // The owner keeps write and search permission: later transfers may write into it.
        fs.chmodSync(d.abs, d.mode | 0o700);
        fs.utimesSync(d.abs, d.mtime / 1000, d.mtime / 1000);
      } catch {
        // Modes and times are best effort (another owner's directory); the files are what matter.
      }
    }
  }
}

/**
 * MTIME_SLACK_MS is how far a received file's time may read from the time
 * announced for it. commit() sets the announced time, but through libuv,
 * which keeps microseconds, and a double, which holds a time of this era
 * only to about 0.24 µs: a time with nanoseconds (what most file systems
 * keep) reads back up to about 1.3 µs off, so an exact comparison would miss
 * two files in three. A millisecond, the unit the protocol announces in,
 * covers that and stays far below any real edit; file systems with coarser
 * times (FAT, exFAT, HFS+) are off by more, and their files are refused as
 * before.
 */
const MTIME_SLACK_MS = 1;

/**
 * alreadyReceived is true when what has a file's name is that file as an
 * earlier transfer left it: a regular file (lstat, so a symlink never
 * counts, whatever it points at) of the announced size and modification
 * time, which the receiver set from the same announcement when it
 * completed the file. Skipping it is what lets an interrupted directory be
 * sent again under the default policy, and it writes nothing, so no file
 * is replaced. Size and time are rsync's quick check; contents are not
 * hashed, which would read every file already there on each re-send.
 *
 * The mode is not compared: it says nothing about the contents, and would
 * turn a re-send into a refusal for a file chmod-ed since it arrived, or on
 * a file system that keeps no Unix modes. The file keeps its own.
 */
function alreadyReceived(st: Stats, entry: FileEntry): boolean {
  return st.isFile() && st.size === entry.size && Math.abs(st.mtimeMs - entry.mtime) < MTIME_SLACK_MS;
}

/**
 * unlike says why an existing file is not the one announced. Size and time
 * are named together: telling which differs would let a sender find a
 * file's size by trying one after another.
 */
function unlike(st: Stats): string {
  if (st.isSymbolicLink()) return 'as a symlink';
  if (!st.isFile()) return 'and is not a regular file';
  return 'and is another file (another size or modification time)';
}

/** place gives a verified part its name without replacing anything that holds it. */
function place(entry: FileEntry, target: string): void {
  try {
    fs.linkSync(partPath(target), target);
    fs.unlinkSync(partPath(target));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const appeared = () => existsError(entry.path, `${quote(entry.path)} appeared while it was received`);
    if (code === 'EEXIST') throw appeared();
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // No hard links here (FAT, some FUSE file systems): check, then rename.
    if (lstatOrNull(target) !== null) throw appeared();
    fs.renameSync(partPath(target), target);
  }
}

/** unlinkIfThere removes a file (a symlink itself, never its target); a missing one is fine. */
function unlinkIfThere(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** writeMeta creates the resume record; exclusive creation never writes through a planted symlink. */
function writeMeta(p: string, meta: PartMeta): void {
  const text = JSON.stringify(meta);
  try {
    fs.writeFileSync(p, text, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A stale record (or a planted link): remove the name itself, then create ours.
    fs.unlinkSync(p);
    fs.writeFileSync(p, text, { flag: 'wx', mode: 0o600 });
  }
}

function existsError(rel: string, message: string): TransferError {
  return new TransferError('NETKIT_TRANSFER_EXISTS', message, { path: rel });
}

function pathError(rel: string, message: string): TransferError {
  return new TransferError('NETKIT_TRANSFER_PATH', `unsafe path ${message}`, { path: rel });
}
