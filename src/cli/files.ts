import { readFile } from 'node:fs/promises';
import { fileAccessError } from '../internal/fs-errors.js';

/**
 * readFileFlag reads the file a flag names (`--data-file`, `--cacert`); a
 * failure is NETKIT_FILE_ACCESS naming the flag, the path and the reason.
 */
export async function readFileFlag(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw fileAccessError(path, `read ${flag}`, err);
  }
}
