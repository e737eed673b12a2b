/**
 * The inputs of the transfer benchmark, and checks of what arrived: one
 * large random file and a tree of many small ones, written to tmpfs so the
 * disk never limits the measurement.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
// The tests' seeded PRNG: the same sizes on every run and machine.
import { rng } from '../../test/helpers/rng.js';

const MiB = 1024 * 1024;

/**
 * scratchDir makes a fresh directory on tmpfs (/dev/shm) when there is one,
 * else in the system temp dir. It is removed when the process exits too:
 * on tmpfs, an interrupted run would otherwise leave gigabytes in memory.
 */
export async function scratchDir(): Promise<{ dir: string; tmpfs: boolean }> {
  const tmpfs = existsSync('/dev/shm');
  const dir = await mkdtemp(path.join(tmpfs ? '/dev/shm' : os.tmpdir(), 'netkit-bench-transfer-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { dir, tmpfs };
}

/** writeRandomFile writes `bytes` random bytes in 16 MiB chunks and returns the SHA-256 (hex). */
export async function writeRandomFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(file, 'w');
  try {
    for (let left = bytes; left > 0; ) {
      const chunk = randomBytes(Math.min(16 * MiB, left));
      hash.update(chunk);
      await fh.write(chunk);
      left -= chunk.length;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/** sha256File hashes a file (hex). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Tree is a directory of small files; `files` are paths relative to `dir`. */
export interface Tree {
  dir: string;
  files: string[];
  bytes: number;
}

/**
 * writeTree writes dirs × perDir files of 1–8 KiB (seeded sizes, random
 * content) as dir/dNN/fNN-MM.bin. Every name is unique across the
 * directories, so receivers that keep only the base name still get them all.
 */
export async function writeTree(dir: string, dirs: number, perDir: number): Promise<Tree> {
  const next = rng(20_240_601);
  const files: string[] = [];
  let bytes = 0;
  const w = String(Math.max(dirs, perDir) - 1).length;
  for (let d = 0; d < dirs; d++) {
    const sub = `d${String(d).padStart(w, '0')}`;
    await mkdir(path.join(dir, sub), { recursive: true });
    for (let f = 0; f < perDir; f++) {
      const size = 1024 + Math.floor(next() * (7 * 1024 + 1));
      const rel = path.join(sub, `f${String(d).padStart(w, '0')}-${String(f).padStart(w, '0')}.bin`);
      await writeFile(path.join(dir, rel), randomBytes(size));
      files.push(rel);
      bytes += size;
    }
  }
  return { dir, files, bytes };
}

/** treeStats counts the regular files under `dir` (recursively) and their bytes. */
export async function treeStats(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}
