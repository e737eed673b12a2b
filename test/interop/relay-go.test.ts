// test: alone
/**
 * The TCP relay between real Go peers (test/interop/relaypeer, standard
 * library only; gorilla/websocket's echo server and a gorilla client from
 * Debian's golang-github-gorilla-websocket-dev): 256 MiB each way at once
 * arrive byte for byte (compared as SHA-256 digests the Go programs
 * compute), a half-close lets the server's whole answer through, a
 * RST from either side reaches the other as a reset, and TCP and WebSocket are
 * bridged both ways. The half-close test runs through `netkit relay
 * --json`, so the command is covered end to end.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type TestContext, test } from 'node:test';
import { type ConnSummary, relay } from '../../src/relay/index.js';
import { type Proc, spawnProc, startCli } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

/** PeerResult is the JSON line relaypeer prints when its exchange is over. */
interface PeerResult {
  role: string;
  sent: number;
  sentSha256: string;
  received: number;
  receivedSha256: string;
  ms: number;
  error?: string;
  reset?: boolean;
}

const MiB = 1024 * 1024;

/** GoProc is a running Go program; `closed` settles once it has exited and its output is all read. */
type GoProc = Proc & { closed: Promise<unknown> };

function goProc(t: TestContext, bin: string, args: string[]): GoProc {
  const p = spawnProc(bin, args);
  t.after(() => p.kill());
  // 'exit' can come before the last stdout chunk is read; 'close' comes after both.
  return Object.assign(p, { closed: once(p.child, 'close') });
}

/** result waits for a Go program to finish and parses its last stdout line, with its stderr on failure. */
async function result<T>(p: GoProc): Promise<T & { exitCode: number | null }> {
  await p.closed;
  const code = p.child.exitCode;
  const last = p.stdout().trim().split('\n').at(-1) ?? '';
  let parsed: T;
  try {
    parsed = JSON.parse(last) as T;
  } catch {
    throw new Error(`no result line (exit ${code}); stdout:\n${p.stdout()}\nstderr:\n${p.stderr()}`);
  }
  return { ...parsed, exitCode: code };
}

/** goServer starts a Go program that prints "listening ADDR" and resolves with ADDR. */
async function goServer(
  t: TestContext,
  bin: string,
  args: string[],
): Promise<{ address: string; p: GoProc }> {
  const p = goProc(t, bin, args);
  const [, address] = await p.waitFor(/listening (\S+)/);
  return { address: address!, p };
}

test('Go ⇄ netkit relay ⇄ Go: 256 MiB each way at the same time arrive byte for byte', {
  timeout: 180_000,
}, async (t) => {
  const peer = await goProgram(t, 'test/interop/relaypeer');
  if (!peer) return;
  const n = 256 * MiB;
  const server = await goServer(t, peer, [
    '-listen',
    '127.0.0.1:0',
    '-bytes',
    `${n}`,
    '-seed',
    '2',
    '-timeout',
    '150s',
  ]);
  const r = await relay({ listen: '127.0.0.1:0', targets: [server.address] });
  t.after(() => r.destroy());
  const closed = once(r, 'close') as Promise<[ConnSummary]>;

  const started = performance.now();
  // The relay runs in this process: its CPU time says what it costs, whatever else shares the machine.
  const cpu = process.cpuUsage();
  const client = goProc(t, peer, ['-dial', r.address, '-bytes', `${n}`, '-seed', '1', '-timeout', '150s']);
  const [c, s] = await Promise.all([result<PeerResult>(client), result<PeerResult>(server.p)]);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);

  assert.equal(c.error, undefined, `client: ${c.error}`);
  assert.equal(s.error, undefined, `server: ${s.error}`);
  assert.equal(c.sent, n);
  assert.equal(s.sent, n);
  assert.equal(s.received, n, 'client → server byte count');
  assert.equal(c.received, n, 'server → client byte count');
  assert.equal(s.receivedSha256, c.sentSha256, 'client → server bytes differ');
  assert.equal(c.receivedSha256, s.sentSha256, 'server → client bytes differ');
  // Different seeds: a relay that looped one direction back would not pass.
  assert.notEqual(c.sentSha256, s.sentSha256);
  assert.deepEqual([c.exitCode, s.exitCode], [0, 0]);

  const [summary] = await closed;
  assert.equal(summary.up, n);
  assert.equal(summary.down, n);
  assert.equal(summary.how, 'fin');
  const perDirection = n / MiB / (ms / 1000);
  t.diagnostic(
    `256 MiB each way in ${ms.toFixed(0)} ms: ${perDirection.toFixed(0)} MiB/s per direction, ${(2 * perDirection).toFixed(0)} MiB/s in all (Go client ${c.ms.toFixed(0)} ms, Go server ${s.ms.toFixed(0)} ms); the relay used ${((used.user + used.system) / 1000).toFixed(0)} ms of CPU`,
  );
});

test('netkit relay --json: a Go client that half-closes gets the whole answer the Go server sends after EOF', {
  timeout: 60_000,
}, async (t) => {
  const peer = await goProgram(t, 'test/interop/relaypeer');
  if (!peer) return;
  const request = 300 * 1024 + 7;
  // Megabytes, so the answer takes many rounds of backpressure, all of them after the client's FIN.
  const answer = 8 * MiB + 3;
  const server = await goServer(t, peer, [
    '-listen',
    '127.0.0.1:0',
    '-mode',
    'read-then-write',
    '-bytes',
    `${answer}`,
    '-seed',
    '4',
  ]);
  const run = startCli(['relay', '127.0.0.1:0', server.address, '--json']);
  t.after(async () => {
    run.abort();
    await run.done;
  });
  const [line] = await run.waitFor(/^\{"event":"listening".*$/m);
  const listening = JSON.parse(line) as { address: string; targets: string[] };
  assert.match(listening.address, /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(listening.targets, [server.address]);

  const client = goProc(t, peer, [
    '-dial',
    listening.address,
    '-mode',
    'write-then-read',
    '-bytes',
    `${request}`,
    '-seed',
    '3',
  ]);
  const [c, s] = await Promise.all([result<PeerResult>(client), result<PeerResult>(server.p)]);
  assert.equal(c.error, undefined, `client: ${c.error}`);
  assert.equal(s.error, undefined, `server: ${s.error}`);
  assert.equal(s.received, request);
  assert.equal(s.receivedSha256, c.sentSha256);
  assert.equal(c.received, answer);
  assert.equal(c.receivedSha256, s.sentSha256);

  const [closeLine] = await run.waitFor(/^\{"event":"close".*$/m);
  const summary = JSON.parse(closeLine) as ConnSummary & { event: string };
  assert.equal(summary.target, server.address);
  assert.equal(summary.up, request);
  assert.equal(summary.down, answer);
  assert.equal(summary.first, 'client');
  assert.equal(summary.how, 'fin');
  run.abort();
  assert.equal(await run.done, 0);
});

const RESETS = [
  { resets: 'server', sees: 'client', first: 'target' },
  { resets: 'client', sees: 'server', first: 'client' },
] as const;

for (const { resets, sees, first } of RESETS) {
  test(`Go ${resets}'s RST (SetLinger(0), Close) reaches the Go ${sees} as a reset; the summary says ${first}/rst`, {
    timeout: 60_000,
  }, async (t) => {
    const peer = await goProgram(t, 'test/interop/relaypeer');
    if (!peer) return;
    const mode = (side: string) => (side === resets ? 'reset' : 'expect-reset');
    const server = await goServer(t, peer, [
      '-listen',
      '127.0.0.1:0',
      '-mode',
      mode('server'),
      '-bytes',
      '5',
    ]);
    const r = await relay({ listen: '127.0.0.1:0', targets: [server.address] });
    t.after(() => r.destroy());
    const closed = once(r, 'close') as Promise<[ConnSummary]>;

    const client = goProc(t, peer, ['-dial', r.address, '-mode', mode('client'), '-bytes', '5']);
    const [c, s] = await Promise.all([result<PeerResult>(client), result<PeerResult>(server.p)]);
    const [resetter, victim] = resets === 'server' ? [s, c] : [c, s];
    assert.equal(resetter.error, undefined, `${resets}: ${resetter.error}`);
    assert.equal(resetter.received, 5);
    assert.equal(victim.reset, true, `the ${sees} saw ${victim.error}, not a reset`);
    assert.match(victim.error ?? '', /connection reset by peer/);
    assert.equal(victim.received, 0);
    assert.deepEqual([c.exitCode, s.exitCode], [0, 0]);

    const [summary] = await closed;
    assert.equal(summary.first, first);
    assert.equal(summary.how, 'rst');
    assert.equal(resets === 'server' ? summary.up : summary.down, 5);
  });
}

test('Go TCP client → netkit relay tcp → ws:// → gorilla echo server: every byte comes back', {
  timeout: 60_000,
}, async (t) => {
  const peer = await goProgram(t, 'test/interop/relaypeer');
  const echo = await goProgram(t, 'test/interop/wsecho');
  if (!peer || !echo) return;
  const n = 16 * MiB + 5;
  const server = await goServer(t, echo, []);
  const r = await relay({ listen: '127.0.0.1:0', targets: [`ws://${server.address}/echo`] });
  t.after(() => r.destroy());
  const closed = once(r, 'close') as Promise<[ConnSummary]>;

  const client = goProc(t, peer, ['-dial', r.address, '-bytes', `${n}`, '-seed', '5']);
  const c = await result<PeerResult>(client);
  assert.equal(c.error, undefined, `client: ${c.error}`);
  assert.equal(c.received, n);
  assert.equal(c.receivedSha256, c.sentSha256);

  const [summary] = await closed;
  assert.equal(summary.up, n);
  assert.equal(summary.down, n);
  assert.equal(summary.first, 'client');
  assert.equal(summary.how, 'fin');
});

test('gorilla client → netkit relay ws:// → tcp → Go line server: bytes in, binary messages out', {
  timeout: 60_000,
}, async (t) => {
  const wsClient = await goProgram(t, 'test/interop/relaywsclient');
  const lines = await goProgram(t, 'test/interop/lineserver');
  if (!wsClient || !lines) return;
  const server = await goServer(t, lines, ['-echo']);
  const r = await relay({ listen: 'ws://127.0.0.1:0/relay', targets: [server.address] });
  t.after(() => r.destroy());
  assert.match(r.address, /^ws:\/\/127\.0\.0\.1:\d+\/relay$/);
  const closed = once(r, 'close') as Promise<[ConnSummary]>;

  const client = goProc(t, wsClient, ['-url', r.address]);
  const c = await result<{
    sent: number;
    messages: number;
    allBinary: boolean;
    replyBytes: number;
    equal: boolean;
    closeCode: number;
    error?: string;
  }>(client);
  assert.equal(c.error, undefined, `client: ${c.error}`);
  // The line server echoes each line it read, so equal bytes mean every message's bytes reached it in order.
  assert.equal(c.replyBytes, c.sent);
  assert.equal(c.equal, true);
  assert.equal(c.allBinary, true);
  assert.ok(c.messages >= 1);
  assert.equal(c.closeCode, 1000);

  const [summary] = await closed;
  assert.equal(summary.up, c.sent);
  assert.equal(summary.down, c.sent);
  assert.equal(summary.first, 'client');
});
