import { readlinkSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Owner is the process holding a socket. */
export interface Owner {
  /** pid is the process id (the lowest, when several processes share the socket). */
  pid: number;
  /** command is the process name, from /proc/PID/comm. */
  command: string;
}

/**
 * socketOwners maps socket inodes to the processes holding them, by reading
 * every /proc/<pid>/fd/* link (`socket:[12345]`). Processes this user may
 * not inspect, and ones that exit while being read, are skipped: the map is
 * what could be seen, like `ss -p` without root. The links of one process
 * are read synchronously: each is a memory lookup in procfs, and 10,000
 * async calls spend most of their time queueing in libuv's thread pool.
 */
export async function socketOwners(procRoot = '/proc'): Promise<Map<number, Owner>> {
  const owners = new Map<number, Owner>();
  const pids = (await readdir(procRoot)).filter((d) => /^\d+$/.test(d));
  await Promise.all(
    pids.map(async (pid) => {
      const fdDir = path.join(procRoot, pid, 'fd');
      let fds: string[];
      try {
        fds = await readdir(fdDir);
      } catch {
        return;
      }
      let command: string | undefined;
      for (const fd of fds) {
        let link: string;
        try {
          link = readlinkSync(path.join(fdDir, fd));
        } catch {
          continue;
        }
        if (!link.startsWith('socket:[')) continue;
        const inode = Number(link.slice(8, -1));
        command ??= await readFile(path.join(procRoot, pid, 'comm'), 'utf8').then(
          (c) => c.trim(),
          () => '?',
        );
        // Sockets shared across fork() have several owners; the lowest pid (the parent) is reported.
        const prev = owners.get(inode);
        if (!prev || Number(pid) < prev.pid) owners.set(inode, { pid: Number(pid), command });
      }
    }),
  );
  return owners;
}
