// test: alone
/**
 * WebSocket broadcast rooms under a partition. Clients in the test's host
 * join a room on a `ws serve --mode broadcast` in host B, with `reconnect`,
 * a preamble and a heartbeat on both ends; a publisher on host B's side of
 * the link sends numbered messages throughout. A black hole (no FIN, no
 * RST) is held until both ends' heartbeats have declared the connections
 * dead, then lifted: every client must be back within its backoff bound,
 * the server must see each preamble again, and each client's stream must
 * lack only what was sent while it was away — nothing twice, nothing out
 * of order (at-most-once).
 *
 * With Redis, two servers share a room through it; Redis is killed and
 * restarted, and the gap in cross-server fan-out is measured.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialWs, type WsClient } from '../../src/ws/index.js';
import { events, spawnNetkit } from '../helpers/cli.js';
import { figure, rounds, spread } from '../helpers/figures.js';
import { requireLab } from '../helpers/netns.js';
import { startRedis } from '../helpers/redis.js';
import { ROOT } from '../helpers/tools.js';

/** HEARTBEAT is both ends' ping interval: a dead connection is declared within two of them. */
const HEARTBEAT = 300;
/** BLACKHOLE is how long each partition lasts: well past two heartbeats on both ends. */
const BLACKHOLE = 2000;
const BACKOFF = { initial: 100, max: 800 } as const;
/** OPEN_TIMEOUT bounds one reconnect attempt (a SYN into the black hole is never answered). */
const OPEN_TIMEOUT = 1000;
/**
 * RECONNECT_BOUND is how long after the heal a client may take to be back:
 * an attempt under way when the link returns (at most OPEN_TIMEOUT), one
 * more backoff delay (at most BACKOFF.max), and a margin for the handshake
 * of every client at once on a loaded machine.
 */
const RECONNECT_BOUND = OPEN_TIMEOUT + BACKOFF.max + 700;
/** PUBLISH_EVERY is the publisher's interval, in ms. */
const PUBLISH_EVERY = 10;
/** MARGIN widens each absence window for clock reads on both sides of the link. */
const MARGIN = 50;

/** Member is one client in the room and what it saw. */
interface Member {
  name: string;
  client: WsClient;
  got: number[];
  opens: number[];
  closes: number[];
}

/** until polls `ok` every 10 ms and fails naming `what` after `ms`. */
async function until(ok: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(10);
  }
}

/**
 * publisher runs in host B (or here when `spawn` is local): it sends `m<n>`
 * to the room every PUBLISH_EVERY ms and prints `<n> <Date.now()>` just
 * before each send, so the test knows when each message left.
 */
const PUBLISHER = `
const [mod, url, every] = process.argv.slice(1);
const { dialWs } = await import(mod);
const c = await dialWs(url);
// Its own room's messages come back to it; reading them keeps the server from dropping a slow reader.
(async () => { for await (const _ of c) {} })().catch(() => {});
let n = 0;
let busy = false;
setInterval(async () => {
  if (busy) return;
  busy = true;
  n++;
  process.stdout.write(n + ' ' + Date.now() + '\\n');
  await c.send('m' + n);
  busy = false;
}, Number(every));
`;

function publisherArgs(url: string): string[] {
  return [
    '--input-type=module',
    '-e',
    PUBLISHER,
    path.join(ROOT, 'dist', 'ws', 'index.js'),
    url,
    String(PUBLISH_EVERY),
  ];
}

/** Sent maps each published number to when it left. */
function readSent(output: string): Map<number, number> {
  const sent = new Map<number, number>();
  for (const line of output.split('\n')) {
    const [n, at] = line.split(' ').map(Number);
    if (Number.isInteger(n) && Number.isFinite(at)) sent.set(n as number, at as number);
  }
  return sent;
}

function capture(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return () => out;
}

async function join(t: TestContext, url: string, name: string, heartbeat = HEARTBEAT): Promise<Member> {
  const client = await dialWs(url, {
    reconnect: BACKOFF,
    timeout: OPEN_TIMEOUT,
    heartbeat,
    preamble: [`join ${name}`],
  });
  t.after(() => client.close());
  const m: Member = { name, client, got: [], opens: [], closes: [] };
  client.on('open', () => m.opens.push(Date.now()));
  client.on('close', () => m.closes.push(Date.now()));
  void (async () => {
    for await (const msg of client) {
      const text = msg.text();
      if (text.startsWith('m')) m.got.push(Number(text.slice(1)));
    }
  })().catch(() => {});
  return m;
}

/**
 * audit checks one member's stream against what was sent: strictly rising
 * (no duplicate, no reordering), and every gap inside one of `windows` (the
 * spans when this member was away). Returns how many were lost.
 */
function audit(m: Member, sent: Map<number, number>, last: number, windows: [number, number][]): number {
  for (let i = 1; i < m.got.length; i++) {
    assert.ok(
      (m.got[i] as number) > (m.got[i - 1] as number),
      `${m.name}: m${m.got[i]} after m${m.got[i - 1]} (duplicate or reordered)`,
    );
  }
  const have = new Set(m.got);
  let lost = 0;
  for (let n = 1; n <= last; n++) {
    if (have.has(n)) continue;
    const at = sent.get(n);
    assert.ok(at !== undefined, `m${n} has no send time`);
    const away = windows.some(([from, to]) => at >= from - MARGIN && at <= to + MARGIN);
    assert.ok(away, `${m.name}: m${n}, sent at ${at} while it was connected, never arrived`);
    lost++;
  }
  return lost;
}

test('broadcast room through black holes: clients back within the backoff bound, preamble replayed, only messages sent while away lost', async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const clients = rounds(20, 100);
  const faults = rounds(2, 10);
  const server = await lab.netkit([
    'ws',
    'serve',
    `${lab.b}:0`,
    '--mode',
    'broadcast',
    '--heartbeat',
    `${HEARTBEAT}ms`,
  ]);
  const url = `ws://${server.address}/chat/lobby`;
  const members = await Promise.all(Array.from({ length: clients }, (_, i) => join(t, url, `c${i}`)));
  const pub = lab.spawn(process.execPath, publisherArgs(url));
  const published = capture(pub);
  await until(
    () => members.every((m) => m.got.length > 0),
    5000,
    () => 'the first message at every client',
  );

  const detect: number[] = [];
  const reconnect: number[] = [];
  const windows = new Map<Member, [number, number][]>(members.map((m) => [m, []]));
  for (let round = 1; round <= faults; round++) {
    await sleep(500);
    const closesBefore = members.map((m) => m.closes.length);
    const from = Date.now();
    await lab.blackhole();
    await until(
      () => members.every((m, i) => m.closes.length > (closesBefore[i] as number)),
      BLACKHOLE,
      () => `every client's heartbeat to drop its connection (round ${round})`,
    );
    for (const [i, m] of members.entries())
      detect.push((m.closes[closesBefore[i] as number] as number) - from);
    await sleep(Math.max(0, from + BLACKHOLE - Date.now()));
    const healed = Date.now();
    await lab.unblock();
    await until(
      () => members.every((m) => (m.opens.at(-1) ?? 0) >= healed),
      RECONNECT_BOUND + 3000,
      () =>
        `every client to reconnect (round ${round}; missing ${members
          .filter((m) => (m.opens.at(-1) ?? 0) < healed)
          .map((m) => m.name)
          .join(' ')})`,
    );
    for (const m of members) {
      const back = m.opens.at(-1) as number;
      reconnect.push(back - healed);
      windows.get(m)?.push([from, back]);
      assert.ok(
        back - healed <= RECONNECT_BOUND,
        `${m.name} took ${back - healed} ms to reconnect (bound ${RECONNECT_BOUND} ms)`,
      );
      // One open per fault: no client reconnected twice, or while it was still connected.
      assert.equal(m.opens.length, round, `${m.name}: ${m.opens.length} reconnections after ${round} faults`);
    }
    // The server saw every client leave (its heartbeat) and say its preamble again.
    await until(
      () => {
        const joins = events(server.output()).filter((e) => e.event === 'message');
        return members.every((m) => joins.filter((e) => e.data === `join ${m.name}`).length === round + 1);
      },
      3000,
      () => `the server to see every client's preamble ${round + 1} times`,
    );
  }
  await sleep(300);
  const sentNow = readSent(published());
  const last = Math.max(...sentNow.keys());
  await until(
    () => members.every((m) => m.got.includes(last)),
    3000,
    () => `m${last} at every client`,
  );
  pub.kill('SIGKILL');
  const sent = readSent(published());
  let lost = 0;
  let lostMax = 0;
  for (const m of members) {
    const l = audit(m, sent, last, windows.get(m) ?? []);
    lost += l;
    lostMax = Math.max(lostMax, l);
  }
  const srv = events(server.output());
  const serverDrops = srv.filter((e) => e.event === 'close' && e.code === 1006).length;
  assert.ok(
    serverDrops >= clients * faults,
    `the server dropped ${serverDrops} dead connections, expected ${clients * faults}`,
  );
  const d = spread(detect);
  const r = spread(reconnect);
  figure(t, 'ws broadcast: black hole', {
    clients,
    faults,
    heartbeat_ms: HEARTBEAT,
    detect_min_ms: d.min,
    detect_p50_ms: d.p50,
    detect_max_ms: d.max,
    reconnect_min_ms: r.min,
    reconnect_p50_ms: r.p50,
    reconnect_max_ms: r.max,
    reconnect_bound_ms: RECONNECT_BOUND,
    published: last,
    lost,
    lost_per_client_fault_avg: Math.round(lost / (clients * faults)),
    lost_per_client_max: lostMax,
    duplicated: 0,
    reordered: 0,
  });
});

test('two ws serve --redis sharing a room: Redis killed and restarted, fan-out resumes; the gap is measured', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const restarts = rounds(2, 5);
  const outage = 1000;
  const serve = async () => {
    const proc = spawnNetkit([
      'ws',
      'serve',
      '127.0.0.1:0',
      '--mode',
      'broadcast',
      '--redis',
      redis.url,
      '--json',
      '-q',
    ]);
    t.after(() => proc.kill('SIGKILL'));
    const [, u] = await proc.waitFor(/"url":"([^"]+)"/);
    return { proc, url: `${u}/lobby` };
  };
  const one = await serve();
  const two = await serve();
  // The subscriber on server two hears server one's publisher only through Redis.
  const sub = await join(t, two.url, 'sub', 0);
  const local = await join(t, one.url, 'local', 0);
  const pub = spawnNetkitPublisher(t, one.url);
  await until(
    () => sub.got.length > 0 && local.got.length > 0,
    5000,
    () => 'the first message through Redis',
  );

  const gaps: number[] = [];
  const resumed: number[] = [];
  const windows: [number, number][] = [];
  for (let round = 1; round <= restarts; round++) {
    await sleep(300);
    const killed = Date.now();
    await redis.stop();
    // Both servers notice and say so.
    await until(
      () =>
        [one, two].every(
          (s) =>
            events(s.proc.stdout()).filter((e) => e.event === 'redis' && e.state === 'down').length >= round,
        ),
      5000,
      () => `both servers to report Redis down (round ${round})`,
    );
    await sleep(Math.max(0, killed + outage - Date.now()));
    await redis.restart();
    const restarted = Date.now();
    const before = sub.got.at(-1) ?? 0;
    let at = 0;
    await until(
      () => {
        if ((sub.got.at(-1) ?? 0) > before && at === 0) at = Date.now();
        return (
          at > 0 &&
          [one, two].every(
            (s) =>
              events(s.proc.stdout()).filter((e) => e.event === 'redis' && e.state === 'up').length >= round,
          )
        );
      },
      10_000,
      () => `fan-out through Redis to resume (round ${round})`,
    );
    // RedisBus retries every min(100 ms × attempt, 2 s): back within one capped retry and a resubscribe.
    assert.ok(at - restarted <= 3000, `fan-out resumed ${at - restarted} ms after Redis came back`);
    resumed.push(at - restarted);
    gaps.push(at - killed);
    windows.push([killed, at]);
  }
  await sleep(300);
  const sentNow = readSent(pub.output());
  const last = Math.max(...sentNow.keys());
  await until(
    () => sub.got.includes(last) && local.got.includes(last),
    3000,
    () => `m${last} on both servers`,
  );
  pub.child.kill('SIGKILL');
  const sent = readSent(pub.output());
  const lost = audit(sub, sent, last, windows);
  // Server one's own room never depended on Redis: nothing lost there.
  assert.equal(audit(local, sent, last, []), 0);
  const g = spread(gaps);
  const r = spread(resumed);
  figure(t, 'ws broadcast: Redis restart', {
    restarts,
    outage_ms: outage,
    resumed_after_restart_min_ms: r.min,
    resumed_after_restart_max_ms: r.max,
    fanout_gap_min_ms: g.min,
    fanout_gap_max_ms: g.max,
    published: last,
    lost_through_redis: lost,
    lost_locally: 0,
  });
});

/** spawnNetkitPublisher runs the publisher here, next to the servers and Redis. */
function spawnNetkitPublisher(t: TestContext, url: string): { child: ChildProcess; output: () => string } {
  const proc = spawnProcess(process.execPath, publisherArgs(url));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return { child: proc, output: capture(proc) };
}
