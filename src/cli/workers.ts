import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Output } from './output.js';

/** WORKER_ENV marks a process as one of several workers sharing a port. */
export const WORKER_ENV = 'NETKIT_WORKER';

/** isWorker is true inside a worker started by runWorkers. */
export function isWorker(env: Record<string, string | undefined>): boolean {
  return cluster.isWorker && env[WORKER_ENV] !== undefined;
}

/** onWorkerShutdown calls `fn` when the primary asks this worker to shut down. */
export function onWorkerShutdown(fn: () => void): void {
  process.on('message', (msg) => {
    if (msg === 'netkit:shutdown') fn();
  });
  // The IPC channel must not keep the worker alive once its server is done.
  process.channel?.unref();
  // The worker must not outlive its primary.
  process.on('disconnect', fn);
}

/**
 * untilStopped resolves when the command should stop serving: Ctrl-C or
 * SIGTERM (`signal`), or, inside a worker, the primary asking it to.
 */
export function untilStopped(signal: AbortSignal, inWorker: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    if (inWorker) onWorkerShutdown(resolve);
  });
}

/**
 * runWorkers starts `count` processes that run the same command and share
 * its listening port through node:cluster (the primary accepts and hands
 * connections round-robin), so a server uses every core. It prints one
 * `listening` event, restarts workers that die, and on `signal` asks each
 * to shut down gracefully, killing any still alive after `graceMs`.
 */
export async function runWorkers(options: {
  count: number;
  argv: readonly string[];
  signal: AbortSignal;
  out: Output;
  graceMs: number;
  describe: (address: string) => string;
  /** relay picks worker messages the primary passes on to every other worker (a shared bus). */
  relay?: (msg: unknown) => boolean;
  /** fields adds command-specific fields (a URL) to the listening event. */
  fields?: (address: string) => Record<string, unknown>;
}): Promise<number> {
  const { count, out, signal } = options;
  const self = fileURLToPath(import.meta.url);
  const exec = self.replace(/workers\.(ts|js)$/, (_m, ext: string) => `main.${ext}`);
  cluster.setupPrimary({ exec, args: [...options.argv] });
  const workers = new Set<Worker>();
  let stopping = false;
  let started = false;
  let restarts = 0;

  const fork = (id: number): Worker => {
    const w = cluster.fork({ [WORKER_ENV]: String(id) });
    workers.add(w);
    const relay = options.relay;
    if (relay) {
      w.on('message', (msg) => {
        if (!relay(msg)) return;
        for (const other of workers) if (other !== w && other.isConnected()) other.send(msg);
      });
    }
    w.on('exit', (code, sig) => {
      workers.delete(w);
      // Before every worker listens, a death is a startup failure (port in use): report it, do not retry.
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
      if (++ready === count) {
        const host = addr.address ?? '';
        resolve(host.includes(':') ? `[${host}]:${addr.port}` : `${host}:${addr.port}`);
      }
    });
    cluster.once('exit', (_w, code) => {
      if (ready < count) {
        failedWith = code || 1;
        reject(new Error(`a worker exited with code ${code} before listening`));
      }
    });
  });
  for (let i = 1; i <= count; i++) fork(i);
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
  out.event(
    'listening',
    { address, ...options.fields?.(address), workers: count, pid: process.pid },
    options.describe(address),
  );

  await new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      if (workers.size === 0) resolve();
      for (const w of workers) {
        w.send('netkit:shutdown');
        const kill = setTimeout(() => w.process.kill('SIGKILL'), options.graceMs + 1000);
        w.on('exit', () => {
          clearTimeout(kill);
          if (workers.size === 0) resolve();
        });
      }
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  return 0;
}

/**
 * primaryFor starts `workers` processes and supervises them when this
 * process is the primary of a multi-worker command; it returns undefined
 * when the command should serve by itself (one worker, or inside a worker).
 */
export function primaryFor(
  ctx: { io: { env: Record<string, string | undefined>; signal: AbortSignal }; argv: readonly string[] },
  out: Output,
  o: {
    workers: number;
    graceMs: number;
    describe: (address: string) => string;
    relay?: (msg: unknown) => boolean;
    fields?: (address: string) => Record<string, unknown>;
  },
): Promise<number> | undefined {
  if (o.workers <= 1 || isWorker(ctx.io.env)) return undefined;
  return runWorkers({
    count: o.workers,
    argv: ctx.argv,
    signal: ctx.io.signal,
    out,
    graceMs: o.graceMs,
    describe: o.describe,
    ...(o.relay ? { relay: o.relay } : {}),
    ...(o.fields ? { fields: o.fields } : {}),
  });
}
