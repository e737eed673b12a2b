// test: alone
/**
 * RELIABILITY.md item 43: a black-holed server (no FIN, no RST, SYNs never
 * answered) ends every client operation within its configured timeout.
 * Real netkit servers run in host B; the black hole starts either before
 * the client connects or once its request is in flight. Each client runs
 * as the CLI (a child process in our namespace, so its exit code and its
 * own clean-up count) and, where there is one, as the library. How long
 * past its timeout each run ended is recorded with figure().
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { EXIT } from '../../src/cli/exit-codes.js';
import { NetkitError } from '../../src/errors.js';
import { request } from '../../src/http/index.js';
import { createTcpPool } from '../../src/pool/index.js';
import { dialRpc } from '../../src/rpc/index.js';
import { dial } from '../../src/tcp/index.js';
import { sendFiles } from '../../src/transfer/index.js';
import { dialWs } from '../../src/ws/index.js';
import { type Proc, spawnNetkit } from '../helpers/cli.js';
import { figure, rounds, spread } from '../helpers/figures.js';
import { type Lab, requireLab } from '../helpers/netns.js';

const N = rounds(3, 20);
/** CLI_SLACK covers a child's Node start-up (a few hundred ms on a busy machine) and its exit. */
const CLI_SLACK = 1500;
/** LIB_SLACK covers timer lateness and clean-up inside this process. */
const LIB_SLACK = 300;
/** HANG is when a run is declared hung and killed, so a regression fails instead of stalling the suite. */
const HANG = 15_000;

interface Outcome {
  ms: number;
  /** code is the CLI's exit code or the library error's `code`. */
  code: number | string;
  detail: string;
}

/** cliRun spawns `netkit …args` in our namespace and waits (bounded) for its exit. */
async function cliRun(args: string[], during?: (ms: number, p: Proc) => Promise<void>): Promise<Outcome> {
  const started = performance.now();
  const p = spawnNetkit(args);
  p.child.stdin?.on('error', () => {}); // stdin stays open (interactive clients) and is ours to leave
  const killer = setTimeout(() => void p.kill('SIGKILL'), HANG);
  try {
    if (during) await during(started, p);
    const { code, signal } = await p.exited;
    return {
      ms: performance.now() - started,
      code: code ?? -1,
      detail: `exit ${code ?? signal}; stderr: ${p.stderr().slice(-400)}`,
    };
  } finally {
    clearTimeout(killer);
    await p.kill('SIGKILL');
  }
}

/** libRun runs a library operation that must reject, and reports its error's code. */
async function libRun(op: () => Promise<unknown>, during?: (ms: number) => Promise<void>): Promise<Outcome> {
  const started = performance.now();
  let hung: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    hung = setTimeout(() => reject(new Error(`still running after ${HANG} ms`)), HANG);
  });
  try {
    const running = op();
    if (during) await during(started);
    await Promise.race([running, bound]);
    return { ms: performance.now() - started, code: 'resolved', detail: 'resolved instead of failing' };
  } catch (err) {
    const code = err instanceof NetkitError ? err.code : String(err);
    return { ms: performance.now() - started, code, detail: String((err as Error).stack ?? err) };
  } finally {
    clearTimeout(hung);
  }
}

/**
 * measure runs `once` N times and checks each ended with `want` no later
 * than `limitMs`, then records how far past `timeoutMs` the runs ended.
 */
async function measure(
  t: TestContext,
  name: string,
  o: { timeoutMs: number; limitMs: number; want: number | string },
  once: (round: number) => Promise<Outcome>,
): Promise<void> {
  const over: number[] = [];
  for (let i = 0; i < N; i++) {
    const r = await once(i);
    assert.equal(r.code, o.want, `${name} #${i}: got ${r.code} want ${o.want} (${r.detail})`);
    assert.ok(
      r.ms <= o.limitMs,
      `${name} #${i}: ended after ${Math.round(r.ms)} ms, limit ${o.limitMs} ms (${r.detail})`,
    );
    over.push(r.ms - o.timeoutMs);
  }
  const s = spread(over);
  figure(t, `blackhole ${name}`, {
    timeoutMs: o.timeoutMs,
    code: String(o.want),
    runs: N,
    overMinMs: s.min,
    overP50Ms: s.p50,
    overMaxMs: s.max,
  });
}

/** shaped limits host B's sending rate, so a response is still on the wire when the black hole starts. */
async function shapeB(lab: Lab, rate: string): Promise<void> {
  const { stdout } = await lab.exec('ip', ['-o', 'link', 'show']);
  const dev = /^\d+: (nkv[^@:]+b)[@:]/m.exec(stdout)?.[1];
  assert.ok(dev, `no veth in ${lab.ns}:\n${stdout}`);
  await lab.exec('tc', [
    'qdisc',
    'add',
    'dev',
    dev,
    'root',
    'tbf',
    'rate',
    rate,
    'burst',
    '16kb',
    'latency',
    '5s',
  ]);
}

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nk-blackhole-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('black hole before connecting: every client ends within its timeout', {
  timeout: 600_000,
}, async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const dir = await scratch(t);
  const file = path.join(dir, 'payload.bin');
  await writeFile(file, Buffer.alloc(64 * 1024, 7));
  const tcp = await lab.netkit(['tcp', 'serve', `${lab.b}:0`]);
  const http = await lab.netkit(['http', 'serve', `${lab.b}:0`]);
  const ws = await lab.netkit(['ws', 'serve', `${lab.b}:0`]);
  const rpc = await lab.netkit(['rpc', 'serve', `${lab.b}:0`]);
  const code = '3-black-hole-code';
  const recv = await lab.netkit(['recv', `${lab.b}:0`, '--dir', path.join(dir, 'in'), '--code', code]);
  await lab.blackhole();

  const T = 1000;
  const cli = { timeoutMs: T, limitMs: T + CLI_SLACK, want: EXIT.TIMEOUT };
  const lib = (want: string) => ({ timeoutMs: T, limitMs: T + LIB_SLACK, want });
  const args = '{"A":7,"B":8}';

  await t.test('tcp connect', async (tt) => {
    await measure(tt, 'tcp connect (cli --connect-timeout 1s)', cli, () =>
      cliRun(['tcp', 'connect', tcp.address, '--connect-timeout', '1s', '--send', 'x']),
    );
    await measure(tt, 'tcp dial (lib timeout 1000)', lib('NETKIT_CONNECT_TIMEOUT'), () =>
      libRun(() => dial(tcp.address, { timeout: T })),
    );
  });

  await t.test('http get', async (tt) => {
    await measure(tt, 'http get (cli --timeout 1s)', cli, () =>
      cliRun(['http', 'get', `http://${http.address}/`, '--timeout', '1s']),
    );
    await measure(tt, 'http request (lib timeout 1000)', lib('NETKIT_TIMEOUT'), () =>
      libRun(() => request(`http://${http.address}/`, { timeout: T })),
    );
  });

  await t.test('ws connect', async (tt) => {
    await measure(tt, 'ws connect (cli --connect-timeout 1s)', cli, () =>
      cliRun(['ws', 'connect', `ws://${ws.address}/echo`, '--connect-timeout', '1s', '--send', 'x']),
    );
    await measure(tt, 'ws dial (lib timeout 1000)', lib('NETKIT_CONNECT_TIMEOUT'), () =>
      libRun(() => dialWs(`ws://${ws.address}/echo`, { timeout: T })),
    );
  });

  await t.test('rpc call', async (tt) => {
    await measure(tt, 'rpc call (cli --timeout 1s)', cli, () =>
      cliRun(['rpc', 'call', rpc.address, 'Arith.Multiply', args, '--timeout', '1s']),
    );
    await measure(tt, 'rpc call --http (cli --timeout 1s)', cli, () =>
      cliRun(['rpc', 'call', rpc.address, 'Arith.Multiply', args, '--http', '--timeout', '1s']),
    );
    await measure(tt, 'rpc dial (lib timeout 1000)', lib('NETKIT_CONNECT_TIMEOUT'), () =>
      libRun(() => dialRpc(rpc.address, { timeout: T })),
    );
  });

  await t.test('send', async (tt) => {
    await measure(tt, 'send (cli --connect-timeout 1s)', cli, () =>
      cliRun(['send', file, recv.address, '--code', code, '--connect-timeout', '1s', '-q']),
    );
    await measure(tt, 'send (lib connectTimeout 1000)', lib('NETKIT_CONNECT_TIMEOUT'), () =>
      libRun(() => sendFiles([file], recv.address, { code, connectTimeout: T })),
    );
  });

  await t.test('tcp pool acquire', async (tt) => {
    // acquireTimeout shorter than createTimeout: the caller's bound wins over a dial still trying.
    await measure(tt, 'pool acquire (acquireTimeout 1000, createTimeout 10000)', lib('NETKIT_TIMEOUT'), () =>
      libRun(async () => {
        const pool = createTcpPool(tcp.address, { acquireTimeout: T, createTimeout: 10_000 });
        try {
          await pool.acquire();
        } finally {
          await pool.drain();
        }
      }),
    );
    // createTimeout shorter: each dial gives up, and acquire still ends at its own deadline.
    await measure(tt, 'pool acquire (acquireTimeout 1000, createTimeout 300)', lib('NETKIT_TIMEOUT'), () =>
      libRun(async () => {
        const pool = createTcpPool(tcp.address, { acquireTimeout: T, createTimeout: 300 });
        try {
          await pool.acquire();
        } finally {
          await pool.drain();
        }
      }),
    );
  });
});

test('black hole with a request in flight: every client ends within its deadline', {
  timeout: 600_000,
}, async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const dir = await scratch(t);
  const site = path.join(dir, 'site');
  await mkdir(site);
  await writeFile(path.join(site, 'big.bin'), Buffer.alloc(16 * 1024 * 1024, 1));
  const slow = path.join(dir, 'slow.mjs');
  await writeFile(
    slow,
    'export const services = { Slow: { Sleep: (ms) => new Promise((r) => setTimeout(() => r(ms), ms)) } };\n',
  );
  const http = await lab.netkit(['http', 'serve', `${lab.b}:0`, '--dir', site]);
  const rpc = await lab.netkit(['rpc', 'serve', `${lab.b}:0`, '--service', slow]);
  const ws = await lab.netkit(['ws', 'serve', `${lab.b}:0`, '--heartbeat', '0']);
  // 16 MiB at 1 Mbit/s takes minutes: the download is still running when the black hole starts.
  await shapeB(lab, '1mbit');

  const T = 2000;
  /** AT is when the black hole starts: the child has started, connected and sent its request by then. */
  const AT = 800;
  const blackholeAt = async (started: number) => {
    await sleep(Math.max(0, started + AT - performance.now()));
    await lab.blackhole();
  };
  const inFlight = async <R extends Outcome>(run: (during: (ms: number) => Promise<void>) => Promise<R>) => {
    try {
      return await run(blackholeAt);
    } finally {
      await lab.unblock();
    }
  };
  /**
   * afterOutput holds `during` back until the client printed something (the
   * ws echo, or "connected to"): proof that it is past its handshake, which
   * on a loaded machine can take longer than AT. The case is a request in
   * flight; the handshake has its own test above.
   */
  const afterOutput =
    (during: (ms: number) => Promise<void>) =>
    async (started: number, p: Proc): Promise<void> => {
      const until = performance.now() + HANG;
      while (!/\S/.test(p.stdout() + p.stderr()) && p.child.exitCode === null && performance.now() < until) {
        await sleep(10);
      }
      await during(started);
    };
  const cli = { timeoutMs: T, limitMs: T + CLI_SLACK, want: EXIT.TIMEOUT };
  const lib = (want: string) => ({ timeoutMs: T, limitMs: T + LIB_SLACK, want });

  await t.test('http get during the download', async (tt) => {
    const url = `http://${http.address}/big.bin`;
    await measure(tt, 'http get in flight (cli --timeout 2s)', cli, () =>
      inFlight((during) => cliRun(['http', 'get', url, '--timeout', '2s', '--json'], during)),
    );
    await measure(tt, 'http request in flight (lib timeout 2000)', lib('NETKIT_TIMEOUT'), () =>
      inFlight((during) => libRun(() => request(url, { timeout: T }), during)),
    );
  });

  await t.test('rpc call waiting for its reply', async (tt) => {
    await measure(tt, 'rpc call in flight (cli --timeout 2s)', cli, () =>
      inFlight((during) =>
        cliRun(['rpc', 'call', rpc.address, 'Slow.Sleep', '60000', '--timeout', '2s'], during),
      ),
    );
    await measure(tt, 'rpc call in flight (lib timeout 2000, then close)', lib('NETKIT_TIMEOUT'), () =>
      inFlight((during) =>
        libRun(async () => {
          const client = await dialRpc(rpc.address, { timeout: T });
          try {
            await client.call('Slow.Sleep', 60_000, { timeout: T });
          } finally {
            await client.close();
          }
        }, during),
      ),
    );
  });

  await t.test('ws connect waiting for a reply (--wait)', async (tt) => {
    const url = `ws://${ws.address}/echo`;
    await measure(tt, 'ws connect --send in flight (cli --wait 2s)', cli, () =>
      inFlight((during) =>
        cliRun(
          ['ws', 'connect', url, '--send', 'a', '--count', '2', '--wait', '2s', '-q'],
          afterOutput(during),
        ),
      ),
    );
    // The library's bound on a dead peer is close(): the close frame goes unanswered for closeTimeout.
    await measure(tt, 'ws close in flight (lib closeTimeout 2000)', lib('resolved'), () =>
      inFlight((during) =>
        libRun(async () => {
          const client = await dialWs(url, { timeout: T, closeTimeout: T });
          await during(performance.now() - AT);
          await client.close();
        }),
      ),
    );
  });

  await t.test('ws connect pinging (--ping)', async (tt) => {
    const url = `ws://${ws.address}/echo`;
    // A pong not back when the next ping is due means the peer is gone: at most two intervals after the black hole.
    const every = 300;
    const deadline = AT + 2 * every;
    await measure(
      tt,
      'ws connect --ping in flight (cli --ping 300ms)',
      { timeoutMs: deadline, limitMs: deadline + CLI_SLACK, want: EXIT.TIMEOUT },
      () => inFlight((during) => cliRun(['ws', 'connect', url, '--ping', '300ms'], afterOutput(during))),
    );
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
