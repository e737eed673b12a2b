/**
 * A second "host" for fault tests: a Linux network namespace joined to the
 * test's own namespace by a veth pair, with a private /30 on the link.
 * The test process is host A (10.x.y.1); programs run in host B
 * (10.x.y.2) through `ip netns exec`. Faults happen at the link, as on a
 * real network: the link cut (`ip link set down`), a black hole (an
 * nftables rule in B that drops everything: no FIN, no RST, SYNs never
 * answered) and a bandwidth limit (`tc tbf`). Everything is removed after
 * the test, even when it fails, and again at exit as a last resort.
 *
 * Needs root, iproute2 and nftables. A test without them skips with a
 * message, and fails under CI=true, as every tool-dependent test does.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { NETKIT_BIN } from './cli.js';

const run = promisify(execFile);

/** Lab is a namespace "host B" joined to the test's host by one link. */
export interface Lab {
  /** name is the namespace's name (`nk-…`). */
  readonly ns: string;
  /** a is the test's own address on the link; b is host B's. */
  readonly a: string;
  readonly b: string;
  /** cut takes the link down (both ends see carrier loss; packets in flight are lost). */
  cut(): Promise<void>;
  /** heal brings the link back up. */
  heal(): Promise<void>;
  /** blackhole makes B drop every packet, in and out: no FIN, no RST, no SYN-ACK. */
  blackhole(): Promise<void>;
  /** unblock removes the black hole. */
  unblock(): Promise<void>;
  /** limit caps the rate from A to B (`tc tbf` on A's end), e.g. '1mbit'; undefined removes it. */
  limit(rate: string | undefined): Promise<void>;
  /** exec runs a command in B and resolves with its output (bounded by `timeout` ms). */
  exec(cmd: string, args: string[], timeout?: number): Promise<{ stdout: string; stderr: string }>;
  /** spawn starts a long-running program in B; it is killed after the test. */
  spawn(cmd: string, args: string[]): ChildProcess;
  /** netkit starts the built CLI in B and resolves once its `listening` event names an address. */
  netkit(args: string[]): Promise<{ child: ChildProcess; address: string; output: () => string }>;
}

let serial = 0;
const live = new Set<{ ns: string; veth: string }>();

/** labUnavailable says why no lab can be made here, or undefined when one can. */
export async function labUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['tc', 'iproute2'],
  ] as const) {
    try {
      await run(tool, ['-V']);
    } catch {
      return `${tool} is not installed (Debian ${pkg})`;
    }
  }
  return undefined;
}

/**
 * requireLab skips `t` (or fails it under CI=true) when a lab cannot be
 * made, and otherwise makes one that is removed after the test.
 */
export async function requireLab(t: TestContext): Promise<Lab | undefined> {
  const why = await labUnavailable();
  if (why !== undefined) {
    if (process.env.CI === 'true') throw new Error(`fault lab unavailable under CI: ${why}`);
    t.skip(`fault lab unavailable: ${why}`);
    return undefined;
  }
  return makeLab(t);
}

async function makeLab(t: TestContext): Promise<Lab> {
  const id = `${process.pid % 10000}${(serial++).toString(36)}`;
  const ns = `nk-${id}`;
  const veth = `nkv${id}`; // interface names are at most 15 bytes
  // A /30 of 10.200.0.0/14 picked from pid and serial, so concurrent test files never share a link.
  const n = ((process.pid * 64 + serial) % 65536) * 4;
  const base = `10.${200 + ((n >> 16) & 3)}.${(n >> 8) & 255}.${n & 255}`;
  const [o1, o2, o3, o4] = base.split('.').map(Number) as [number, number, number, number];
  const a = `${o1}.${o2}.${o3}.${o4 + 1}`;
  const b = `${o1}.${o2}.${o3}.${o4 + 2}`;
  const record = { ns, veth };
  live.add(record);
  const children = new Set<ChildProcess>();
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await removeLab(record);
  });
  await ip('netns', 'add', ns);
  await ip('link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`);
  await ip('link', 'set', `${veth}b`, 'netns', ns);
  await ip('addr', 'add', `${a}/30`, 'dev', `${veth}a`);
  await ip('link', 'set', `${veth}a`, 'up');
  await ip('-n', ns, 'addr', 'add', `${b}/30`, 'dev', `${veth}b`);
  await ip('-n', ns, 'link', 'set', `${veth}b`, 'up');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  const nft = (...args: string[]) => run('ip', ['netns', 'exec', ns, 'nft', ...args]);
  await nft('add', 'table', 'inet', 'nk');
  await nft('add', 'chain', 'inet', 'nk', 'input', '{ type filter hook input priority 0 ; }');
  await nft('add', 'chain', 'inet', 'nk', 'output', '{ type filter hook output priority 0 ; }');

  const lab: Lab = {
    ns,
    a,
    b,
    cut: () =>
      ip('link', 'set', `${veth}a`, 'down').then(() => ip('-n', ns, 'link', 'set', `${veth}b`, 'down')),
    heal: async () => {
      await ip('link', 'set', `${veth}a`, 'up');
      await ip('-n', ns, 'link', 'set', `${veth}b`, 'up');
      // The address on A's end comes back with the link; wait until the route is usable again.
      await waitRoute(b);
    },
    blackhole: async () => {
      await nft('add', 'rule', 'inet', 'nk', 'input', `iifname "${veth}b"`, 'drop');
      await nft('add', 'rule', 'inet', 'nk', 'output', `oifname "${veth}b"`, 'drop');
    },
    unblock: async () => {
      await nft('flush', 'chain', 'inet', 'nk', 'input');
      await nft('flush', 'chain', 'inet', 'nk', 'output');
    },
    limit: async (rate) => {
      await run('tc', ['qdisc', 'del', 'dev', `${veth}a`, 'root']).catch(() => {});
      if (rate !== undefined) {
        await run('tc', [
          'qdisc',
          'add',
          'dev',
          `${veth}a`,
          'root',
          'tbf',
          'rate',
          rate,
          'burst',
          '32kb',
          'latency',
          '400ms',
        ]);
      }
    },
    exec: (cmd, args, timeout = 10_000) => run('ip', ['netns', 'exec', ns, cmd, ...args], { timeout }),
    spawn: (cmd, args) => {
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      return child;
    },
    netkit: (args) => {
      const child = lab.spawn(process.execPath, [NETKIT_BIN, ...args, '--json']);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`netkit ${args.join(' ')} did not listen in 15 s:\n${out}`)),
          15_000,
        );
        const check = () => {
          const m = /"event":"listening".*?"address":"([^"]+)"/.exec(out);
          if (m) {
            clearTimeout(timer);
            child.stdout?.off('data', check);
            resolve({ child, address: m[1] as string, output: () => out });
          }
        };
        child.stdout?.on('data', check);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`netkit ${args.join(' ')} exited ${code}:\n${out}`));
        });
      });
    },
  };
  await waitRoute(b);
  return lab;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** waitRoute waits (bounded) until the kernel has a usable route to `address` again. */
async function waitRoute(address: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      const { stdout } = await run('ip', ['route', 'get', address]);
      if (stdout.includes('dev ')) return;
    } catch {
      // No route yet: the link is still coming up.
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no route to ${address} after the link came back`);
}

async function removeLab(record: { ns: string; veth: string }): Promise<void> {
  live.delete(record);
  // Deleting the namespace deletes the veth pair with it (its B end lives there).
  await run('ip', ['link', 'del', `${record.veth}a`]).catch(() => {});
  await run('ip', ['netns', 'del', record.ns]).catch(() => {});
}

// A test process killed mid-test still removes what it made (synchronously: the event loop is ending).
process.once('exit', () => {
  for (const r of live) {
    try {
      execFileSync('ip', ['netns', 'del', r.ns], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
});
