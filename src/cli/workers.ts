import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CertificatePair } from '../tls/server.js';
import type { Output } from './output.js';

/**
 * --workers: one command run in several processes that share its address
 * through node:cluster, so a server uses every core. The primary binds the
 * socket and shares it; by default every worker accepts from it and the
 * kernel picks who takes each connection (see schedulingPolicy below). The
 * primary and its workers talk over the cluster's IPC channel in
 * `{ netkit: … }` messages, which a ws cluster bus never sends.
 */

/** WORKER_ENV marks a process as one of several workers sharing an address; its value is the worker's number. */
export const WORKER_ENV = 'NETKIT_WORKER';

type Message =
  | { netkit: 'shutdown' }
  | { netkit: 'reload' }
  | { netkit: 'certificate?' }
  | { netkit: 'certificate'; cert: string; key: string };

function netkitMessage(msg: unknown): Message | undefined {
  return typeof msg === 'object' && msg !== null && 'netkit' in msg ? (msg as Message) : undefined;
}

/**
 * WorkerLink is a worker's end of the channel to its primary: the primary
 * asks it to stop or to reload (a SIGHUP it was sent), and hands it the
 * ephemeral certificate it made, so every worker serves the same one.
 */
export class WorkerLink {
  /** id is the worker's number, 1 to --workers, for the `worker` field of events. */
  readonly id: number;

  private constructor(id: number) {
    this.id = id;
  }

  /** of is this process's link when it is a worker started by runPrimary, else undefined. */
  static of(env: Record<string, string | undefined>): WorkerLink | undefined {
    const id = env[WORKER_ENV];
    return cluster.isWorker && id !== undefined ? new WorkerLink(Number(id)) : undefined;
  }

  /**
   * certificate asks the primary for the certificate it made. A message,
   * not a file or the environment: the private key is never written
   * anywhere, nor shown in the worker's /proc/PID/environ.
   */
  certificate(): Promise<CertificatePair> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: unknown) => {
        const m = netkitMessage(msg);
        if (m?.netkit !== 'certificate') return;
        done();
        resolve({ cert: m.cert, key: m.key });
      };
      const onGone = () => {
        done();
        reject(new Error('the primary went away before handing over the certificate'));
      };
      const done = () => {
        process.off('message', onMessage);
        process.off('disconnect', onGone);
      };
      // Nothing else keeps the worker alive while it waits; on() lets go of the channel once it serves.
      process.channel?.ref();
      process.on('message', onMessage);
      process.once('disconnect', onGone);
      process.send?.({ netkit: 'certificate?' } satisfies Message);
    });
  }

  /**
   * on calls `stop` when the primary asks this worker to shut down or goes
   * away (a worker must not outlive it), and `reload` for a SIGHUP the
   * primary passes on. It returns the function that stops listening.
   */
  on(handlers: { stop: () => void; reload: () => void }): () => void {
    const onMessage = (msg: unknown) => {
      const m = netkitMessage(msg);
      if (m?.netkit === 'shutdown') handlers.stop();
      else if (m?.netkit === 'reload') handlers.reload();
    };
    process.on('message', onMessage);
    process.on('disconnect', handlers.stop);
    // The IPC channel must not keep the worker alive once its server is done.
    process.channel?.unref();
    return () => {
      process.off('message', onMessage);
      process.off('disconnect', handlers.stop);
    };
  }
}

/** SCHED_ENV is Node's own switch between node:cluster's accept distributions: `rr` or `none`. */
export const SCHED_ENV = 'NODE_CLUSTER_SCHED_POLICY';

/**
 * schedulingPolicy is how connections reach workers: the kernel's
 * distribution (SCHED_NONE: every worker accepts from the shared socket)
 * unless NODE_CLUSTER_SCHED_POLICY asks otherwise. node:cluster's own
 * default on Linux is round-robin (SCHED_RR), where the primary accepts
 * every connection and passes it to a worker over IPC with an
 * acknowledgement back, so the primary sits on the path of every accept.
 * Measured in bench/workers.bench.ts: with round-robin two workers spent
 * twice one process's CPU per short connection, a fifth of it in the
 * primary; accepting in the workers, 1.1–1.5× (docs/benchmarks.md,
 * "Scaling with cores").
 */
export function schedulingPolicy(env: Record<string, string | undefined>): number {
  const asked = env[SCHED_ENV];
  if (asked === 'rr') return cluster.SCHED_RR;
  return cluster.SCHED_NONE;
}

/**
 * coresNote is the warning for more workers than CPUs this process may use,
 * or undefined: the extra workers only take turns on the same cores, each
 * costing memory and, under load, context switches.
 */
export function coresNote(count: number, cpus = availableParallelism()): string | undefined {
  if (count <= cpus) return undefined;
  return (
    `--workers ${count} is more than the ${cpus} CPU${cpus === 1 ? '' : 's'} this process may use: ` +
    'the extra workers share cores and add cost; use at most one per core left free by other work'
  );
}

/** PrimaryOptions configure runPrimary(). */
export interface PrimaryOptions {
  count: number;
  argv: readonly string[];
  signal: AbortSignal;
  out: Output;
  /** graceMs is --shutdown-timeout: a worker still alive a second past it is killed. */
  graceMs: number;
  /** certificate is the ephemeral certificate the workers ask for (with --tls and no --cert). */
  certificate?: CertificatePair;
  /** unixAddress is the `unix:/path` the workers share (cluster reports no address for it). */
  unixAddress?: string;
  /** relay picks worker messages the primary passes on to every other worker (a shared bus). */
  relay?: (msg: unknown) => boolean;
  /** hangups is given the function that passes a SIGHUP on to every worker (undefined once stopping). */
  hangups: (forward: (() => void) | undefined) => void;
  /** listening is told the address once every worker listens, to print the `listening` event. */
  listening: (address: string) => void;
}

/**
 * runPrimary starts `count` workers that run the same command line and
 * supervises them: it reports the address once all listen, restarts a
 * worker that dies (not before all listen: that is a startup failure, such
 * as a port in use, reported with the worker's exit code), passes SIGHUP on
 * to every worker, and on `signal` asks each to shut down gracefully,
 * killing any still alive after `graceMs`. Resolves with the exit code.
 */
export async function runPrimary(o: PrimaryOptions): Promise<number> {
  const { count, out, signal } = o;
  const self = fileURLToPath(import.meta.url);
  const exec = self.replace(/workers\.(ts|js)$/, (_m, ext: string) => `main.${ext}`);
  // node:cluster freezes the policy at the first setupPrimary().
  cluster.schedulingPolicy = schedulingPolicy(process.env);
  cluster.setupPrimary({ exec, args: [...o.argv] });
  const workers = new Set<Worker>();
  let stopping = false;
  let started = false;
  let restarts = 0;

  const fork = (id: number): Worker => {
    const w = cluster.fork({ [WORKER_ENV]: String(id) });
    workers.add(w);
    w.on('message', (msg) => {
      if (netkitMessage(msg)?.netkit === 'certificate?' && o.certificate) {
        const { cert, key } = o.certificate;
        w.send({ netkit: 'certificate', cert: cert.toString(), key: key.toString() } satisfies Message);
        return;
      }
      if (!o.relay?.(msg)) return;
      for (const other of workers) if (other !== w && other.isConnected()) other.send(msg as object);
    });
    w.on('exit', (code, sig) => {
      workers.delete(w);
      if (stopping || !started) return;
      out.note(
        'worker-exit',
        { worker: id, pid: w.process.pid, code, signal: sig },
        `worker ${id} exited (${sig ?? code}); restarting`,
      );
      // A crash loop must not spin: give up after a few restarts per worker.
      if (++restarts <= count * 5) fork(id);
    });
    return w;
  };

  let failedWith = 1;
  const listening = new Promise<string>((resolve, reject) => {
    let ready = 0;
    cluster.on('listening', (_w, addr) => {
      if (++ready !== count) return;
      if (o.unixAddress !== undefined) return resolve(o.unixAddress);
      const host = addr.address ?? '';
      resolve(host.includes(':') ? `[${host}]:${addr.port}` : `${host}:${addr.port}`);
    });
    cluster.once('exit', (_w, code) => {
      if (ready < count) {
        failedWith = code || 1;
        reject(new Error(`a worker exited with code ${code} before listening`));
      }
    });
  });
  for (let i = 1; i <= count; i++) fork(i);
  // Each worker reloads its own certificate: SIGHUP is for the whole server, not its supervisor.
  // One still starting reads the files afresh anyway.
  o.hangups(() => {
    for (const w of workers) if (w.isConnected()) w.send({ netkit: 'reload' } satisfies Message);
  });
  let address: string;
  try {
    address = await listening;
  } catch (err) {
    stopping = true;
    for (const w of workers) w.kill();
    out.error(err);
    return failedWith;
  }
  started = true;
  o.listening(address);
  // After the listening line, which scripts read first.
  const crowded = coresNote(count);
  if (crowded !== undefined) out.note('warning', { workers: count, cpus: availableParallelism() }, crowded);

  await new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      if (workers.size === 0) resolve();
      for (const w of workers) {
        if (w.isConnected()) w.send({ netkit: 'shutdown' } satisfies Message);
        const kill = setTimeout(() => w.process.kill('SIGKILL'), o.graceMs + 1000);
        w.on('exit', () => {
          clearTimeout(kill);
          if (workers.size === 0) resolve();
        });
      }
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  o.hangups(undefined);
  return 0;
}
