/**
 * transfer: moving files over loopback TCP, into tmpfs.
 *
 * Cases: one 1 GiB random file, and 10,000 files of 1–8 KiB in 100
 * directories. Each run starts a receiver that exits once it has the data,
 * then the sender; the time is from the sender's start to the receiver's
 * exit. Subjects:
 *   netkit          netkit recv --once --dir D --json / netkit send PATH ADDR --json
 *   Go io.Copy      test/interop/filerecv -n N / filesend: the classic Go program,
 *                   one connection per file (name, "ok", io.Copy, close)
 *   plain Node pipe bench/servers/plain-node-file-recv.mjs / bench/clients/plain-node-file-send.mjs:
 *                   stream.pipeline of a file and a socket, nothing checked (1 GiB only)
 *   socat           socat -u TCP-LISTEN:PORT OPEN:dst / socat -u OPEN:src TCP:…:PORT (1 GiB only)
 *   iperf3 loopback iperf3 -s -1 / iperf3 -c -n 1G: memory to memory, the ceiling (1 GiB only)
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext, Benchmark, Row } from './lib/types.js';
import { scratchDir, writeRandomFile, writeTree } from './transfer/data.js';
import {
  BIG_BYTES,
  BIG_CASE,
  DIRS,
  findTools,
  GO,
  type Inputs,
  IPERF,
  type Job,
  jobs,
  NETKIT,
  NETKIT_PLAIN,
  NETKIT_VIA,
  PER_DIR,
  PLAIN,
  SMALL_CASE,
} from './transfer/jobs.js';

let tmpfsNote: string[] = [];

/** median keeps the round with the median MiB/s, with every round's rate and the spread. */
function median(runs: Row[]): Row {
  const ok = runs.filter((r) => !r.error);
  if (ok.length === 0) return runs[0]!;
  const sorted = [...ok].sort((a, b) => a.metrics.mib_s! - b.metrics.mib_s!);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  if (runs.length === 1) return mid;
  const lo = sorted[0]!.metrics.mib_s!;
  const hi = sorted[sorted.length - 1]!.metrics.mib_s!;
  const failed = runs.flatMap((r, i) => (r.error ? [`round ${i + 1} failed: ${r.error}`] : []));
  return {
    ...mid,
    metrics: { ...mid.metrics, spread_pct: ((hi - lo) / mid.metrics.mib_s!) * 100 },
    detail: { ...mid.detail, round_mib_s: runs.map((r) => r.metrics.mib_s ?? null) },
    ...(failed.length > 0 ? { warnings: failed } : {}),
  };
}

async function measureAll(ctx: BenchContext, list: Job[]): Promise<Row[]> {
  const runs = new Map<Job, Row[]>();
  const verified = new Set<Job>();
  for (let round = 0; round < ctx.rounds; round++) {
    if (ctx.rounds > 1) ctx.log(`round ${round + 1} of ${ctx.rounds}`);
    const order = round % 2 === 0 ? list : [...list].reverse();
    for (const job of order) {
      if (!job.run || job.skipped) continue;
      if (ctx.signal.aborted) throw new Error('interrupted');
      ctx.log(`${job.subject}, ${job.case}`);
      const row: Row = { subject: job.subject, case: job.case, metrics: {} };
      try {
        Object.assign(row, await job.run(!verified.has(job)));
        verified.add(job);
      } catch (err) {
        row.error = (err as Error).message;
      }
      runs.set(job, [...(runs.get(job) ?? []), row]);
      // Let the previous transfer's sockets and page cache settle.
      await sleep(250);
    }
  }
  return list.map((job) =>
    job.skipped || !job.run
      ? { subject: job.subject, case: job.case, metrics: {}, skipped: job.skipped ?? 'not measured' }
      : median(runs.get(job) ?? []),
  );
}

const transfer: Benchmark = {
  name: 'transfer',
  description:
    'file transfer over loopback: netkit send/recv (encrypted, through a rendezvous, --plain) vs the classic Go io.Copy program, socat, iperf3',
  table: (ctx) => ({
    title:
      "transfer: files over loopback TCP into tmpfs, wall clock from the sender's start to the receiver's exit" +
      (ctx.rounds > 1 ? ` (median of ${ctx.rounds} rounds)` : ''),
    subjectHeader: 'subject',
    caseHeader: 'transfer',
    metrics: [
      { key: 'mib_s', header: 'MiB/s', decimals: 1 },
      { key: 'files_s', header: 'files/s' },
      { key: 'seconds', header: 'seconds', decimals: 2 },
      ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
    ],
    ratios: [
      { header: `vs ${GO}`, metric: 'mib_s', baseline: GO },
      { header: `vs ${NETKIT_PLAIN}`, metric: 'mib_s', baseline: NETKIT_PLAIN },
      { header: `vs ${NETKIT}`, metric: 'mib_s', baseline: NETKIT },
      { header: `vs ${PLAIN}`, metric: 'mib_s', baseline: PLAIN },
      { header: `vs ${IPERF}`, metric: 'mib_s', baseline: IPERF },
    ],
    targets: [
      { subject: NETKIT, baseline: GO, metric: 'mib_s', min: 1.0, short: `≥ 1.00× ${GO}`, cases: [BIG_CASE] },
      {
        subject: NETKIT_VIA,
        baseline: NETKIT,
        metric: 'mib_s',
        min: 0.8,
        short: `≥ 0.80× ${NETKIT}`,
        cases: [BIG_CASE],
      },
      {
        subject: NETKIT,
        baseline: NETKIT_PLAIN,
        metric: 'mib_s',
        min: 1.0,
        short: `≥ 1.00× ${NETKIT_PLAIN}`,
        cases: [SMALL_CASE],
      },
      {
        subject: NETKIT,
        baseline: IPERF,
        metric: 'mib_s',
        min: 0.5,
        short: `≥ 0.50× ${IPERF}`,
        cases: [BIG_CASE],
      },
    ],
    notes: [
      'MiB/s counts file bytes (1 MiB = 2^20 bytes). The time includes starting the sender (Node start-up',
      'for netkit) and the receiver writing the last bytes and exiting; the receiver is started beforehand.',
      'netkit encrypts end to end (its default: SPAKE2 on a code, then AES-256-GCM records, whose tags prove',
      'every byte); netkit --plain is the cleartext protocol 1 with a SHA-256 per file on both sides.',
      'netkit via rendezvous: both sides dial a `netkit relay --rendezvous` on loopback, which pipes the bytes.',
      'Go io.Copy is the classic program from the Go',
      'tutorial (test/interop/filesend, filerecv): one connection per file, name, "ok", io.Copy, close.',
      'plain Node pipe is stream.pipeline(file, socket) and back, what a Node user writes; nothing checked.',
      'socat runs with its default 8 KiB buffer. iperf3 moves 1 GiB from memory to memory, no files; its',
      'row is its own sum_received rate, the ceiling of loopback TCP on this machine.',
      `Small files: ${DIRS} directories × ${PER_DIR} files of 1–8 KiB (seeded sizes). netkit sends the`,
      'directory in one command; the Go program dials once per file (10,000 connections), as the classic',
      'receiver keeps base names only. The Go target is set for the 1 GiB file; small files get the same bar.',
      "Every run lands in an emptied directory; sizes (and the tree's file count) are checked every run,",
      'SHA-256 against the source once per subject (netkit, Go).',
      ...tmpfsNote,
    ],
  }),
  async run(ctx) {
    tmpfsNote = [];
    const tools = await findTools(ctx);
    const scratch = await scratchDir();
    if (!scratch.tmpfs) tmpfsNote = ['/dev/shm is missing: the files lived in the system temp directory.'];
    try {
      ctx.log(`writing 1 GiB of random data and ${DIRS * PER_DIR} small files in ${scratch.dir}`);
      const big = path.join(scratch.dir, 'big.bin');
      const bigSha = await writeRandomFile(big, BIG_BYTES);
      const tree = await writeTree(path.join(scratch.dir, 'small'), DIRS, PER_DIR);
      const inp: Inputs = { big, bigSha, tree, dest: path.join(scratch.dir, 'dest') };
      return await measureAll(ctx, jobs(ctx, tools, inp));
    } finally {
      await rm(scratch.dir, { recursive: true, force: true });
    }
  },
};

export default transfer;
