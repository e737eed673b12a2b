/**
 * diffSockets and CloseWaitMonitor on synthetic samples: both are pure
 * functions of the rows they are given (and of `now`), so no kernel needed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CloseWaitMonitor,
  diffSockets,
  type StateChange,
  type TcpSocket,
  type TcpStateName,
} from '../../src/tcpstate/index.js';

/** sock builds an IPv4 row on 127.0.0.1 between localPort and remotePort. */
function sock(
  localPort: number,
  remotePort: number,
  state: TcpStateName,
  extra: Partial<TcpSocket> = {},
): TcpSocket {
  const ip = '127.0.0.1';
  return {
    family: 4,
    localIp: ip,
    localPort,
    remoteIp: remotePort === 0 ? '0.0.0.0' : ip,
    remotePort,
    local: `${ip}:${localPort}`,
    remote: `${remotePort === 0 ? '0.0.0.0' : ip}:${remotePort}`,
    state,
    sendQueue: 0,
    recvQueue: 0,
    timer: 'off',
    timerMs: 0,
    retransmits: 0,
    uid: 1000,
    inode: 10_000 + remotePort,
    ...extra,
  };
}

/** brief reduces a change to what the assertions compare. */
const brief = (c: StateChange) => [
  c.kind,
  c.socket.local,
  c.socket.remote,
  c.socket.state,
  c.from,
  c.socket.inode,
];

test('diffSockets: identical samples differ in nothing', () => {
  const a = [sock(8080, 0, 'LISTEN'), sock(8080, 50000, 'ESTABLISHED')];
  assert.deepEqual(
    diffSockets(
      a,
      a.map((s) => ({ ...s })),
    ),
    [],
  );
  assert.deepEqual(diffSockets([], []), []);
});

test('diffSockets: appeared, changed and vanished', () => {
  const prev = [sock(8080, 0, 'LISTEN'), sock(8080, 50000, 'ESTABLISHED'), sock(8080, 50001, 'ESTABLISHED')];
  const next = [sock(8080, 0, 'LISTEN'), sock(8080, 50000, 'CLOSE_WAIT'), sock(8080, 50002, 'ESTABLISHED')];
  assert.deepEqual(diffSockets(prev, next).map(brief), [
    ['changed', '127.0.0.1:8080', '127.0.0.1:50000', 'CLOSE_WAIT', 'ESTABLISHED', 10_000 + 50000],
    ['appeared', '127.0.0.1:8080', '127.0.0.1:50002', 'ESTABLISHED', undefined, 10_000 + 50002],
    ['vanished', '127.0.0.1:8080', '127.0.0.1:50001', 'ESTABLISHED', undefined, 10_000 + 50001],
  ]);
});

test('diffSockets: FIN_WAIT2 → TIME_WAIT is a change even though the inode drops to 0', () => {
  // The kernel swaps the full socket for a timewait record with no inode; the
  // connection is still the same pair of addresses.
  const prev = [sock(50000, 8080, 'FIN_WAIT2', { inode: 4242, pid: 7, command: 'srv' })];
  const next = [sock(50000, 8080, 'TIME_WAIT', { inode: 0, timer: 'time_wait', timerMs: 60_000 })];
  const changes = diffSockets(prev, next);
  assert.deepEqual(changes.map(brief), [
    ['changed', '127.0.0.1:50000', '127.0.0.1:8080', 'TIME_WAIT', 'FIN_WAIT2', 0],
  ]);
  // The change carries the new row (no owner any more), not the old one.
  assert.equal(changes[0]!.socket.pid, undefined);
  // And it vanishes once the timewait record expires.
  assert.deepEqual(diffSockets(next, []).map(brief), [
    ['vanished', '127.0.0.1:50000', '127.0.0.1:8080', 'TIME_WAIT', undefined, 0],
  ]);
});

test('diffSockets: IPv4 and IPv6 rows with the same ports are different connections', () => {
  const v6 = sock(8080, 0, 'LISTEN', { family: 6, localIp: '::1', remoteIp: '::' });
  v6.local = '[::1]:8080';
  v6.remote = '[::]:0';
  assert.deepEqual(diffSockets([sock(8080, 0, 'LISTEN')], [sock(8080, 0, 'LISTEN'), v6]).map(brief), [
    ['appeared', '[::1]:8080', '[::]:0', 'LISTEN', undefined, v6.inode],
  ]);
});

test('diffSockets: SO_REUSEPORT listeners with the same addresses are all kept', () => {
  const a = sock(8080, 0, 'LISTEN', { inode: 1, pid: 100 });
  const b = sock(8080, 0, 'LISTEN', { inode: 2, pid: 200 });
  assert.deepEqual(
    diffSockets([], [a, b]).map((c) => [c.kind, c.socket.inode]),
    [
      ['appeared', 1],
      ['appeared', 2],
    ],
  );
  assert.deepEqual(diffSockets([a, b], [a, b]), []);
  assert.deepEqual(
    diffSockets([a], [a, b]).map((c) => [c.kind, c.socket.inode]),
    [['appeared', 2]],
  );
  assert.deepEqual(
    diffSockets([a, b], [a]).map((c) => [c.kind, c.socket.inode]),
    [['vanished', 2]],
  );
});

test('diffSockets: when one of two same-address listeners goes, the one that went is reported', () => {
  const a = sock(8080, 0, 'LISTEN', { inode: 1, pid: 100 });
  const b = sock(8080, 0, 'LISTEN', { inode: 2, pid: 200 });
  assert.deepEqual(
    diffSockets([a, b], [b]).map((c) => [c.kind, c.socket.inode, c.socket.pid]),
    [['vanished', 1, 100]],
  );
});

/** closeWaits makes n CLOSE_WAIT rows on localPort, peers numbered from `from`. */
function closeWaits(localPort: number, n: number, from = 40000, extra: Partial<TcpSocket> = {}): TcpSocket[] {
  return Array.from({ length: n }, (_, i) => sock(localPort, from + i, 'CLOSE_WAIT', extra));
}

const owned = { pid: 4321, command: 'leaky' };

test('CloseWaitMonitor: growth over growthSamples consecutive rises flags once', () => {
  const m = new CloseWaitMonitor({ growthSamples: 3, maxAgeMs: 1e9 });
  // 1 → 2 → 3 is only two rises; the third (→ 4) flags.
  assert.deepEqual(m.observe(closeWaits(8080, 1, 40000, owned), 0), []);
  assert.deepEqual(m.observe(closeWaits(8080, 2, 40000, owned), 1000), []);
  assert.deepEqual(m.observe(closeWaits(8080, 3, 40000, owned), 2000), []);
  assert.deepEqual(m.observe(closeWaits(8080, 4, 40000, owned), 3000), [
    { port: 8080, count: 4, oldestMs: 3000, pid: 4321, command: 'leaky', reason: 'growing' },
  ]);
  // Still growing, or steady: already flagged.
  assert.deepEqual(m.observe(closeWaits(8080, 5, 40000, owned), 4000), []);
  assert.deepEqual(m.observe(closeWaits(8080, 5, 40000, owned), 5000), []);
  assert.deepEqual(m.observe(closeWaits(8080, 6, 40000, owned), 6000), []);
});

test('CloseWaitMonitor: a pause in the growth restarts the count', () => {
  const m = new CloseWaitMonitor({ growthSamples: 3, maxAgeMs: 1e9 });
  const counts = [1, 2, 2, 3, 4];
  for (const [i, n] of counts.entries()) {
    assert.deepEqual(m.observe(closeWaits(8080, n), i * 1000), [], `sample ${i}`);
  }
  const [w] = m.observe(closeWaits(8080, 5), 5000);
  assert.equal(w?.reason, 'growing');
  assert.equal(w?.count, 5);
});

test('CloseWaitMonitor: growthSamples is configurable', () => {
  const m = new CloseWaitMonitor({ growthSamples: 1, maxAgeMs: 1e9 });
  assert.deepEqual(m.observe(closeWaits(8080, 1), 0), []);
  assert.equal(m.observe(closeWaits(8080, 2), 1000)[0]?.reason, 'growing');
});

test('CloseWaitMonitor: a rise from none counts as growth once a sample has been seen', () => {
  const m = new CloseWaitMonitor({ growthSamples: 3, maxAgeMs: 1e9 });
  assert.deepEqual(m.observe([], 0), []);
  assert.deepEqual(m.observe(closeWaits(8080, 1), 1000), []);
  assert.deepEqual(m.observe(closeWaits(8080, 2), 2000), []);
  assert.equal(m.observe(closeWaits(8080, 3), 3000)[0]?.reason, 'growing');
});

test('CloseWaitMonitor: a socket lingering maxAgeMs flags once', () => {
  const m = new CloseWaitMonitor({ growthSamples: 3, maxAgeMs: 30_000 });
  const one = closeWaits(9090, 1, 40000, owned);
  assert.deepEqual(m.observe(one, 0), []);
  assert.deepEqual(m.observe(one, 10_000), []);
  assert.deepEqual(m.observe(one, 29_999), []);
  assert.deepEqual(m.observe(one, 30_000), [
    { port: 9090, count: 1, oldestMs: 30_000, pid: 4321, command: 'leaky', reason: 'lingering' },
  ]);
  assert.deepEqual(m.observe(one, 60_000), []);
  // Another socket replacing the old one while the port is never clear is not a new leak report.
  const other = closeWaits(9090, 1, 41000, owned);
  assert.deepEqual(m.observe(other, 61_000), []);
  assert.deepEqual(m.observe(other, 120_000), []);
});

test('CloseWaitMonitor: flags again only after the port had no CLOSE_WAIT sockets', () => {
  const m = new CloseWaitMonitor({ growthSamples: 2, maxAgeMs: 30_000 });
  const one = closeWaits(9090, 1);
  m.observe(one, 0);
  assert.equal(m.observe(one, 30_000)[0]?.reason, 'lingering');
  // Gone: the other states of the connection do not count.
  assert.deepEqual(m.observe([sock(9090, 40000, 'LAST_ACK')], 31_000), []);
  // Back (same addresses, so a reused port pair): its age restarts from now.
  assert.deepEqual(m.observe(one, 40_000), []);
  assert.deepEqual(m.observe(one, 69_999), []);
  assert.deepEqual(
    m.observe(one, 70_000).map((w) => [w.reason, w.oldestMs]),
    [['lingering', 30_000]],
  );
  // Growth is forgotten as well: 0 → 1 → 2 after the gap (two rises) flags anew.
  m.observe([], 71_000);
  assert.deepEqual(m.observe(closeWaits(9090, 1), 72_000), []);
  assert.deepEqual(
    m.observe(closeWaits(9090, 2), 73_000).map((w) => [w.reason, w.count]),
    [['growing', 2]],
  );
});

test('CloseWaitMonitor: ports are judged separately; other states are ignored', () => {
  const m = new CloseWaitMonitor({ growthSamples: 2, maxAgeMs: 10_000 });
  const steady = closeWaits(7070, 1, 30000, { pid: 1, command: 'quiet' });
  // Lots of ESTABLISHED growth on 6060 is not a leak.
  const busy = (n: number) => Array.from({ length: n }, (_, i) => sock(6060, 20000 + i, 'ESTABLISHED'));
  const sample = (n: number) => [...steady, ...closeWaits(8080, n, 40000, owned), ...busy(n * 10)];
  assert.deepEqual(m.observe(sample(1), 0), []);
  assert.deepEqual(m.observe(sample(2), 1000), []);
  assert.deepEqual(
    m.observe(sample(3), 2000).map((w) => [w.port, w.reason, w.count, w.pid, w.command]),
    [[8080, 'growing', 3, 4321, 'leaky']],
  );
  // 8080 clearing does not reset 7070, whose socket goes on ageing.
  assert.deepEqual(m.observe(steady, 5000), []);
  assert.deepEqual(
    m.observe(steady, 10_000).map((w) => [w.port, w.reason, w.oldestMs, w.pid, w.command]),
    [[7070, 'lingering', 10_000, 1, 'quiet']],
  );
});

test('CloseWaitMonitor: owner fields appear only when a socket has an owner', () => {
  const m = new CloseWaitMonitor({ growthSamples: 3, maxAgeMs: 0 });
  const [anon] = m.observe(closeWaits(8080, 1), 0);
  assert.deepEqual(anon, { port: 8080, count: 1, oldestMs: 0, reason: 'lingering' });
  assert.ok(!('pid' in anon!) && !('command' in anon!));
  // Mixed rows (some owners unreadable): the first owned row names the process.
  const mixed = [...closeWaits(9090, 1, 40000), ...closeWaits(9090, 1, 40001, owned)];
  const [w] = m.observe(mixed, 0);
  assert.deepEqual([w?.port, w?.pid, w?.command], [9090, 4321, 'leaky']);
});

test('CloseWaitMonitor: defaults are 3 rising samples and 30 s', () => {
  const m = new CloseWaitMonitor();
  const one = closeWaits(8080, 1);
  m.observe(one, 0);
  assert.deepEqual(m.observe(one, 29_999), []);
  assert.equal(m.observe(one, 30_000)[0]?.reason, 'lingering');
  const g = new CloseWaitMonitor({ maxAgeMs: 1e9 });
  for (const n of [1, 2, 3]) assert.deepEqual(g.observe(closeWaits(8080, n), n), []);
  assert.equal(g.observe(closeWaits(8080, 4), 4)[0]?.reason, 'growing');
});
