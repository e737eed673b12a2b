/**
 * `netkit relay --rendezvous` as a real process (the built CLI; `npm test`
 * builds first): the listening event, two clients paired through it with
 * their bytes carried, a third party refused, and the waiting, paired,
 * refused and closed events as JSON; over TLS with its ephemeral
 * certificate pinned, the room byte limit cutting a pair as a text line;
 * a rendezvous beside a relay; and bad flags (exit 2, naming the flag).
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { Conn } from '../../src/tcp/index.js';
import { type JoinOptions, joinRendezvous } from '../../src/transfer/rendezvous/index.js';
import { cli, events, type Proc, spawnNetkit } from '../helpers/cli.js';
import { readAll } from '../helpers/net.js';
import { echoBackend, roundTrip } from '../helpers/relay.js';

function started(t: TestContext, args: string[]): Proc {
  const proc = spawnNetkit(['relay', ...args]);
  t.after(() => proc.kill('SIGKILL'));
  return proc;
}

async function join(t: TestContext, address: string, options: JoinOptions): Promise<Conn> {
  const conn = await joinRendezvous(address, options);
  t.after(() => conn.destroy());
  return conn;
}

test('--rendezvous --json: listening, waiting, paired, refused and closed events; bytes carried', async (t) => {
  const proc = started(t, ['--rendezvous', '127.0.0.1:0', '--json']);
  const [, address] = (await proc.waitFor(
    /"event":"listening","kind":"rendezvous","address":"([^"]+)"/,
  )) as RegExpMatchArray;
  const listening = events(proc.stdout())[0] as Record<string, unknown>;
  assert.deepEqual(
    [listening.tls, listening.maxRooms, listening.roomTimeout, listening.roomBytes, listening.roomTime],
    [false, 1000, 600_000, 0, 0],
  );
  let waited = false;
  const sending = joinRendezvous(address as string, {
    room: '42',
    role: 'send',
    onWaiting: () => {
      waited = true;
    },
  });
  await proc.waitFor(/"event":"waiting"/);
  const receiver = await join(t, address as string, { room: '42', role: 'recv' });
  const sender = await sending;
  t.after(() => sender.destroy());
  assert.ok(waited);
  await assert.rejects(joinRendezvous(address as string, { room: '42', role: 'recv' }), {
    code: 'NETKIT_RENDEZVOUS_FULL',
  });
  const reading = readAll(receiver);
  await sender.write('over the rendezvous');
  await sender.closeWrite();
  assert.equal((await reading).toString(), 'over the rendezvous');
  await receiver.write('ack');
  await receiver.closeWrite();
  assert.equal((await readAll(sender)).toString(), 'ack');
  await proc.waitFor(/"event":"closed"/);

  const byType = (type: string) => events(proc.stdout()).filter((e) => e.event === type);
  const port = (c: Conn) => `127.0.0.1:${c.localAddr?.port}`;
  assert.deepEqual(byType('waiting'), [{ event: 'waiting', room: '42', role: 'send', peer: port(sender) }]);
  assert.deepEqual(byType('paired'), [
    { event: 'paired', room: '42', sender: port(sender), receiver: port(receiver) },
  ]);
  const refused = byType('refused');
  assert.equal(refused.length, 1);
  assert.deepEqual([refused[0]?.room, refused[0]?.code], ['42', 'NETKIT_RENDEZVOUS_FULL']);
  const closed = byType('closed')[0] as Record<string, unknown>;
  assert.deepEqual(closed.bytes, { toReceiver: 19, toSender: 3 });
  assert.equal(closed.room, '42');
  assert.equal(typeof closed.seconds, 'number');
  assert.match(String(closed.reason), /closed first \(FIN\)/);

  proc.child.kill('SIGINT');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
});

test('--rendezvous tls: with --room-bytes: the fingerprint to pin, a pair cut at the limit (text lines)', async (t) => {
  const proc = started(t, ['--rendezvous', 'tls:127.0.0.1:0', '--room-bytes', '1KiB', '--room-time', '1m']);
  const [, address, pin] = (await proc.waitFor(
    /rendezvous on tls:(\S+) \(up to 1000 rooms, 10m00s alone, 1\.0KiB a room, 1m00s a room\), certificate (sha256:[0-9a-f]+)/,
  )) as RegExpMatchArray;
  const tls = { pin: pin as string };
  const [sender, receiver] = await Promise.all([
    join(t, address as string, { room: 'big', role: 'send', tls }),
    join(t, address as string, { room: 'big', role: 'recv', tls }),
  ]);
  const reading = readAll(receiver).then(
    () => 'ended',
    (e: { code?: string }) => e.code,
  );
  await sender.write(Buffer.alloc(64 * 1024)).catch(() => {});
  assert.equal(await reading, 'NETKIT_CONNECTION_RESET');
  const stderr = async () => {
    for (let i = 0; i < 500 && !/closed:/.test(proc.stderr()); i++)
      await new Promise((r) => setTimeout(r, 10));
    return proc.stderr();
  };
  const text = await stderr();
  assert.match(text, /room big: sender 127\.0\.0\.1:\d+ ↔ receiver 127\.0\.0\.1:\d+/);
  assert.match(text, /room big closed: .*maxRoomBytes\) \[NETKIT_RENDEZVOUS_LIMIT\]/);
});

test('a rendezvous beside a relay: both listen, each does its job', async (t) => {
  const target = await echoBackend(t);
  const proc = started(t, ['127.0.0.1:0', target, '--rendezvous', '127.0.0.1:0', '--json']);
  const [, rendezvous] = (await proc.waitFor(/"kind":"rendezvous","address":"([^"]+)"/)) as RegExpMatchArray;
  const [, relayed] = (await proc.waitFor(
    /"event":"listening","name":"[^"]*","address":"([^"]+)"/,
  )) as RegExpMatchArray;
  assert.equal((await roundTrip(relayed as string, 'echo')).toString(), 'echo');
  const [sender, receiver] = await Promise.all([
    join(t, rendezvous as string, { room: 'side', role: 'send' }),
    join(t, rendezvous as string, { room: 'side', role: 'recv' }),
  ]);
  await sender.write('x');
  assert.equal((await receiver.readFull(1)).toString(), 'x');
});

test('bad rendezvous flags: exit 2 naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['relay', '--max-rooms', '5'], /--max-rooms: limits a rendezvous/],
    [['relay', '--room-bytes', '1MiB'], /--room-bytes/],
    [['relay', '--rendezvous', 'ws://127.0.0.1:0/x'], /--rendezvous: .*HOST:PORT/],
    [['relay', '--rendezvous', '127.0.0.1:0', '--max-rooms', '0'], /--max-rooms/],
    [['relay', '--rendezvous', '127.0.0.1:0', '--room-timeout', 'soon'], /--room-timeout/],
    [['relay', 'udp:127.0.0.1:0', 'udp:127.0.0.1:1', '--rendezvous', '127.0.0.1:0'], /udp:/],
    [['relay', '--rendezvous', '127.0.0.1:0', '--socket-mode', '0600'], /socketMode/],
  ];
  for (const [argv, why] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why, argv.join(' '));
  }
});
