/**
 * readTcpSockets against the running kernel, checked row by row against
 * `ss -tanpe` (iproute2, which asks the kernel over netlink instead of
 * reading /proc/net/tcp). The sockets are made by this process on loopback
 * so their states, inodes and owner are known.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { readTcpSockets, type TcpSocket } from '../../src/tcpstate/index.js';
import { until } from '../helpers/net.js';
import { requireTool } from '../helpers/tools.js';

const execFileP = promisify(execFile);

/** Row is what readTcpSockets and ss rows share. */
type Row = { state: string; local: string; remote: string; inode?: number };

const triple = (r: Row) => `${r.state} ${r.local} ${r.remote}`;

/** Scene holds one socket in each state worth checking, all on one server port. */
interface Scene {
  port: number;
  /** serverEstablished has 1000 unread bytes in its receive queue. */
  serverEstablished: net.Socket;
  /**
   * pick keeps this scene's rows, once each. Strangers can share the port
   * number (a TIME_WAIT left by another test that used it as an ephemeral
   * port). And /proc/net/tcp is read a page at a time, not atomically: while
   * other processes open and close sockets the kernel can repeat a row
   * (see the last test; ss can likewise show a passing row).
   */
  pick: <T extends Row>(rows: T[]) => T[];
  close: () => Promise<void>;
}

/**
 * buildScene makes, on `host`: a listener; an ESTABLISHED pair; a client
 * that ended (FIN_WAIT2) whose server side never closes (CLOSE_WAIT); and a
 * client that closed first, then its server side, leaving the client's
 * TIME_WAIT (the server side passes LAST_ACK and is gone).
 */
async function buildScene(host: string): Promise<Scene> {
  // pauseOnConnect keeps accepted sockets from reading, so data and FINs stay in the kernel.
  const server = net.createServer({ pauseOnConnect: true });
  const accepted: net.Socket[] = [];
  const clients: net.Socket[] = [];
  server.on('connection', (s) => accepted.push(s));
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const connect = async (): Promise<[net.Socket, net.Socket]> => {
    const c = net.connect({ port, host });
    clients.push(c);
    await once(c, 'connect');
    const n = clients.length;
    await until(() => accepted.length === n, 2000, 'accept');
    return [c, accepted[n - 1]!];
  };
  const [estClient, serverEstablished] = await connect();
  const go = (p: number) => (host.includes(':') ? `[${host}]:${p}` : `${host}:${p}`);
  estClient.write(Buffer.alloc(1000, 0x61));
  const [halfClosed] = await connect();
  halfClosed.end();
  const [closer, closerPeer] = await connect();
  // The server side reads the client's FIN and, allowHalfOpen being off, closes too.
  closerPeer.resume();
  closer.resume();
  closer.end();
  const ends = new Set([port, ...clients.map((c) => c.localPort!)].map(go));
  await Promise.all([once(closer, 'close'), once(closerPeer, 'close')]);
  const anyPeer = host.includes(':') ? '[::]:0' : '0.0.0.0:0';
  const ours = (r: Row) =>
    ends.has(r.local) && (ends.has(r.remote) || (r.local === go(port) && r.remote === anyPeer));
  const pick = <T extends Row>(rows: T[]) => [
    ...new Map(rows.filter(ours).map((r) => [`${triple(r)} ${r.inode}`, r])).values(),
  ];
  const want = ['CLOSE_WAIT', 'ESTABLISHED', 'ESTABLISHED', 'FIN_WAIT2', 'LISTEN', 'TIME_WAIT'].join();
  await waitFor(async () => {
    const rows = pick(await readTcpSockets({ port, processes: false }));
    const est = rows.find((s) => s.state === 'ESTABLISHED' && s.localPort === port);
    return (
      rows
        .map((s) => s.state)
        .sort()
        .join() === want && est?.recvQueue === 1000
    );
  });
  return {
    port,
    serverEstablished,
    pick,
    close: async () => {
      for (const s of [...clients, ...accepted]) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function waitFor(cond: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('sockets did not reach the expected states');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** SsRow is one line of `ss -tanpe`, in readTcpSockets' vocabulary. */
interface SsRow {
  state: string;
  recvQ: number;
  sendQ: number;
  local: string;
  remote: string;
  inode?: number;
  pid?: number;
  command?: string;
}

const SS_STATES: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** ss runs `ss -tanpe` for sockets with `port` at either end and parses its rows. */
async function ss(port: number): Promise<SsRow[]> {
  const { stdout } = await execFileP('ss', ['-tanpe', `sport = :${port} or dport = :${port}`]);
  return stdout
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((line) => {
      const [state, recvQ, sendQ, local, peer, ...rest] = line.trim().split(/\s+/) as string[];
      const tail = rest.join(' ');
      const user = /users:\(\("((?:[^"\\]|\\.)*)",pid=(\d+),/.exec(tail);
      const ino = /\bino:(\d+)/.exec(tail);
      return {
        state: SS_STATES[state!] ?? `ss:${state}`,
        recvQ: Number(recvQ),
        sendQ: Number(sendQ),
        local: local!,
        // ss shows a listener's unset peer port as `*`; /proc has 0.
        remote: peer!.replace(/:\*$/, ':0'),
        ...(ino ? { inode: Number(ino[1]) } : {}),
        ...(user ? { pid: Number(user[2]), command: user[1] } : {}),
      };
    });
}

for (const host of ['127.0.0.1', '::1']) {
  describe(`readTcpSockets over ${host}`, () => {
    let scene: Scene;
    before(async () => {
      scene = await buildScene(host);
    });
    after(() => scene.close());

    test('agrees with ss -tanpe on states, addresses, queues, inodes and owners', async (t) => {
      if (!(await requireTool(t, 'ss', 'iproute2'))) return;
      // Two samples taken at once can still disagree while other tests churn sockets: retry a few times.
      let mine: TcpSocket[] = [];
      let theirs: SsRow[] = [];
      const rows = (r: Row[]) => r.map(triple).sort().join('\n');
      for (let i = 0; i < 5 && (i === 0 || rows(mine) !== rows(theirs)); i++) {
        const [a, b] = await Promise.all([readTcpSockets({ port: scene.port }), ss(scene.port)]);
        [mine, theirs] = [scene.pick(a), scene.pick(b)];
      }
      assert.equal(theirs.length, 6);
      assert.deepEqual(mine.map(triple).sort(), theirs.map(triple).sort());
      const comm = (await readFile('/proc/self/comm', 'utf8')).trim();
      const byTriple = new Map(theirs.map((r) => [triple(r), r]));
      for (const s of mine) {
        const r = byTriple.get(triple(s))!;
        const what = triple(s);
        assert.equal(s.family, host === '::1' ? 6 : 4, what);
        assert.equal(s.inode, r.inode, `inode of ${what}`);
        assert.equal(s.recvQueue, r.recvQ, `Recv-Q of ${what}`);
        // For a listener ss's Send-Q is the backlog limit, which /proc does not show.
        if (s.state !== 'LISTEN') assert.equal(s.sendQueue, r.sendQ, `Send-Q of ${what}`);
        assert.equal(s.pid, r.pid, `pid of ${what}`);
        if (s.state === 'TIME_WAIT') {
          assert.deepEqual([s.inode, s.pid, s.timer], [0, undefined, 'time_wait'], what);
          assert.ok(s.timerMs > 0 && s.timerMs <= 60_000, `timerMs ${s.timerMs}`);
        } else {
          assert.ok(s.inode > 0, what);
          assert.deepEqual([s.pid, s.command, r.command], [process.pid, comm, comm], what);
        }
      }
      const unread = mine.find((s) => s.state === 'ESTABLISHED' && s.localPort === scene.port);
      assert.equal(unread?.recvQueue, 1000);
      assert.equal(unread?.local, `${host === '::1' ? '[::1]' : host}:${scene.port}`);
      assert.equal(unread?.remotePort, scene.serverEstablished.remotePort);
    });

    test('filters by port, state and pid', async () => {
      const all = await readTcpSockets({ port: scene.port });
      assert.equal(scene.pick(all).length, 6);
      assert.ok(all.every((s) => s.localPort === scene.port || s.remotePort === scene.port));
      const listeners = scene.pick(await readTcpSockets({ port: scene.port, states: ['LISTEN'] }));
      assert.deepEqual(
        listeners.map((s) => [s.state, s.localIp, s.localPort]),
        [['LISTEN', host, scene.port]],
      );
      const closing = scene.pick(
        await readTcpSockets({ port: scene.port, states: ['CLOSE_WAIT', 'FIN_WAIT2'] }),
      );
      assert.deepEqual(closing.map((s) => s.state).sort(), ['CLOSE_WAIT', 'FIN_WAIT2']);
      // An empty states list is no filter.
      assert.equal(scene.pick(await readTcpSockets({ port: scene.port, states: [] })).length, 6);
      // TIME_WAIT has no inode, so no owner: five of the six are this process's.
      const ours = await readTcpSockets({ port: scene.port, pid: process.pid });
      assert.equal(scene.pick(ours).length, 5);
      assert.ok(ours.every((s) => s.pid === process.pid && s.state !== 'TIME_WAIT'));
      const everywhere = await readTcpSockets({ pid: process.pid });
      assert.ok(everywhere.length >= 5 && everywhere.every((s) => s.pid === process.pid));
      // The test runner that started this process holds none of these sockets.
      assert.deepEqual(await readTcpSockets({ port: scene.port, pid: process.ppid }), []);
    });

    test('processes: false skips the owner lookup, unless pid asks for it', async () => {
      const bare = await readTcpSockets({ port: scene.port, processes: false });
      assert.equal(scene.pick(bare).length, 6);
      assert.ok(bare.every((s) => s.pid === undefined && s.command === undefined));
      const byPid = await readTcpSockets({ port: scene.port, processes: false, pid: process.pid });
      assert.equal(scene.pick(byPid).length, 5);
    });
  });
}

test('without /proc/net/tcp it rejects with NETKIT_UNSUPPORTED', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-tcpstate-'));
  try {
    await assert.rejects(readTcpSockets({ procRoot: dir }), { code: 'NETKIT_UNSUPPORTED' });
    await assert.rejects(readTcpSockets({ procRoot: path.join(dir, 'missing') }), {
      code: 'NETKIT_UNSUPPORTED',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad filters reject with NETKIT_INVALID_ARGUMENT before reading anything', async () => {
  const cases: [string, Parameters<typeof readTcpSockets>[0]][] = [
    ['port', { port: 70000 }],
    ['port', { port: -1 }],
    ['port', { port: 80.5 }],
    ['states', { states: ['FOO' as TcpSocket['state']] }],
    ['states', { states: ['listen' as TcpSocket['state']] }],
    ['pid', { pid: -1 }],
    ['pid', { pid: 0 }],
    ['pid', { pid: 1.5 }],
  ];
  for (const [option, opts] of cases) {
    // procRoot is bogus so a filter that slipped through would fail differently.
    await assert.rejects(readTcpSockets({ ...opts, procRoot: '/nonexistent' }), {
      code: 'NETKIT_INVALID_ARGUMENT',
      option,
    });
  }
});

test('a row the kernel repeated between two page reads is returned once', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-tcpstate-'));
  try {
    await mkdir(path.join(dir, 'net'));
    const row = (n: number, inode: number) =>
      `  ${n}: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 ${inode} 1 0`;
    // Two SO_REUSEPORT listeners (two inodes), the first shown twice; no tcp6 (a kernel without IPv6).
    const table = ['  sl  local_address rem_address   st', row(0, 11), row(1, 12), row(2, 11), ''];
    await writeFile(path.join(dir, 'net', 'tcp'), table.join('\n'));
    const got = await readTcpSockets({ procRoot: dir, processes: false });
    assert.deepEqual(
      got.map((s) => s.inode),
      [11, 12],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
