import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Output } from '../../src/cli/output.js';
import { formatEta, formatRate, renderBar, summaryLine, TransferView } from '../../src/cli/transfer-view.js';
import type { TransferSummary } from '../../src/transfer/events.js';
import { memoryIo } from '../helpers/cli.js';

const MiB = 2 ** 20;
const GiB = 1024 * MiB;
type Status = 'sent' | 'received' | 'skipped';

/** setup builds a view over in-memory stdio and a clock the test moves by hand. */
function setup(opts: { tty: boolean; json?: boolean; quiet?: boolean; columns?: number }) {
  const mem = memoryIo({ stderrTTY: opts.tty, columns: opts.columns });
  const io = mem.value;
  const clock = { t: 0 };
  const view = new TransferView(new Output(io, Boolean(opts.json)), io, {
    quiet: opts.quiet,
    now: () => clock.t,
  });
  const flush = () => new Promise((r) => setImmediate(r));
  const ev = {
    start: (path: string, size: number, offset = 0) =>
      view.onEvent({ type: 'file-start', path, size, offset }),
    progress: (path: string, bytes: number, size: number) =>
      view.onEvent({ type: 'progress', path, bytes, size }),
    end: (path: string, size: number, sentBytes: number, status: Status, resumedFrom = 0, reason?: string) =>
      view.onEvent({ type: 'file-end', path, size, sentBytes, resumedFrom, status, reason }),
  };
  return { view, ev, clock, out: mem.out, err: mem.err, flush };
}

function summary(over: Partial<TransferSummary> = {}): TransferSummary {
  return {
    role: 'send',
    peer: '127.0.0.1:40000',
    files: 3,
    skipped: 0,
    alreadyReceived: 0,
    dirs: 1,
    bytes: 1024 * MiB,
    sentBytes: 1024 * MiB,
    seconds: 1.52,
    ok: true,
    ...over,
  };
}

test('formatRate and formatEta: units, clock forms and unknown values', () => {
  assert.equal(formatRate(0), '0 B/s');
  assert.equal(formatRate(512), '512 B/s');
  assert.equal(formatRate(1536), '1.5 KiB/s');
  assert.equal(formatRate(312.4 * MiB), '312.4 MiB/s');
  assert.equal(formatRate(2.5 * 1024 * MiB), '2.5 GiB/s');
  assert.equal(formatRate(Number.POSITIVE_INFINITY), '--');
  assert.equal(formatRate(Number.NaN), '--');
  assert.equal(formatEta(0), '0:00');
  assert.equal(formatEta(7), '0:07');
  assert.equal(formatEta(6.2), '0:07', 'rounded up: 0:00 means done');
  assert.equal(formatEta(723), '12:03');
  assert.equal(formatEta(3723), '1:02:03');
  assert.equal(formatEta(Number.POSITIVE_INFINITY), '--:--');
  assert.equal(formatEta(Number.NaN), '--:--');
  assert.equal(formatEta(-1), '--:--');
  assert.equal(formatEta(1e9), '--:--');
});

test('renderBar: fills its width, shows percent, amounts, rate and ETA', () => {
  const line = renderBar({ name: 'data.bin', bytes: 512 * MiB, size: GiB, rateBps: 256 * MiB, width: 80 });
  assert.equal(line.length, 79, 'one column spare so the terminal never wraps');
  assert.match(line, /^data\.bin \[#+-+\] +50% +512 MiB\/1\.0 GiB +256\.0 MiB\/s +0:02$/);
  const stalled = renderBar({ name: 'a', bytes: 1, size: 10, rateBps: 0, width: 80 });
  assert.ok(stalled.endsWith('--:--'), 'no rate: unknown ETA');
  const empty = renderBar({ name: 'empty', bytes: 0, size: 0, rateBps: 0, width: 80 });
  assert.match(empty, /\[#+\] 100% +0 B\/0 B +0 B\/s +0:00$/, 'a zero-size file is complete at once');
});

test('renderBar: long names lose their middle, narrow terminals lose the bar', () => {
  const name = `${'a'.repeat(40)}/middle/${'z'.repeat(40)}.txt`;
  const line = renderBar({ name, bytes: 1, size: 2, rateBps: 1, width: 100 });
  assert.ok(line.length <= 99);
  assert.match(line, /^a+…z+\.txt \[/);
  assert.ok(!line.includes('middle'));
  const narrow = renderBar({ name, bytes: 1, size: 2, rateBps: 1, width: 50 });
  assert.ok(narrow.length <= 49);
  assert.ok(!narrow.includes('['), 'no room for a bar');
  const wide = renderBar({ name: '文件'.repeat(30), bytes: 1, size: 2, rateBps: 1, width: 80 });
  const cells = Array.from(wide).reduce((n, ch) => n + (ch >= '\u2e80' && ch <= '\ua4cf' ? 2 : 1), 0);
  assert.ok(cells <= 79, 'wide characters count as two cells');
});

test('terminal: redraws are throttled, and each file ends with a full line', async () => {
  const v = setup({ tty: true, columns: 60 });
  v.ev.start('big.bin', 100 * MiB);
  for (let i = 1; i <= 100; i++) {
    v.clock.t = i / 2;
    v.ev.progress('big.bin', i * 10_000, 100 * MiB);
  }
  await v.flush();
  const early = v.err().split('\r').length - 1;
  assert.ok(early >= 1 && early <= 2, `100 events in 50 ms drew ${early} times`);
  v.clock.t = 150;
  v.ev.progress('big.bin', 50 * MiB, 100 * MiB);
  await v.flush();
  assert.equal(v.err().split('\r').length - 1, early + 1, 'one redraw once the interval passed');
  assert.ok(v.err().endsWith('\x1b[K'), 'each redraw clears what a longer line left');
  assert.ok(v.err().includes(' 50% '));
  v.clock.t = 1000;
  v.ev.end('big.bin', 100 * MiB, 100 * MiB, 'sent');
  await v.flush();
  const last = v.err().split('\r').at(-1)!;
  assert.equal(last.length, 59 + '\x1b[K\n'.length, 'the width follows the terminal');
  assert.match(last, /^big\.bin \[#+\] 100% +100 MiB\/100 MiB +100\.0 MiB\/s +0:00\x1b\[K\n$/);
  assert.equal(v.out(), '', 'bars stay off stdout');
});

test('terminal: a resumed file counts only the bytes moved in this run', async () => {
  const v = setup({ tty: true });
  v.ev.start('r.bin', 1000 * MiB, 900 * MiB);
  v.clock.t = 1000;
  v.ev.progress('r.bin', 910 * MiB, 1000 * MiB);
  await v.flush();
  assert.ok(v.err().includes(' 10.0 MiB/s '), v.err());
  assert.ok(v.err().includes(' 91% '));
  v.clock.t = 2000;
  v.ev.end('r.bin', 1000 * MiB, 100 * MiB, 'received', 900 * MiB);
  await v.flush();
  assert.ok(v.err().split('\r').at(-1)!.includes(' 50.0 MiB/s '), 'average over this run');
});

test('terminal: the rate follows the last second, not the whole file', async () => {
  const v = setup({ tty: true });
  v.ev.start('f', 1000 * MiB);
  let bytes = 0;
  for (let t = 100; t <= 3000; t += 100) {
    bytes += t <= 2000 ? 10 * MiB : 1 * MiB; // 100 MiB/s, then 10 MiB/s
    v.clock.t = t;
    v.ev.progress('f', bytes, 1000 * MiB);
  }
  await v.flush();
  assert.ok(v.err().split('\r').at(-1)!.includes(' 10.0 MiB/s '), v.err().split('\r').at(-1));
});

test('terminal: a zero-size file shows 100% at once', async () => {
  const v = setup({ tty: true });
  v.ev.start('empty', 0);
  await v.flush();
  assert.ok(v.err().includes(' 100% '));
});

test('hostile names never reach the terminal raw', async () => {
  const evil = 'x\x1b[31mred\nline\u202etxt.exe';
  const tty = setup({ tty: true });
  tty.ev.start(evil, 10);
  tty.clock.t = 200;
  tty.ev.progress(evil, 5, 10);
  tty.ev.end(evil, 10, 10, 'received');
  tty.ev.end(evil, 10, 0, 'skipped');
  tty.view.summary(
    summary({ peer: '\x1b]0;pwned\x07', ok: false, error: { code: 'E\x1b', message: 'bad\x1b[2J' } }),
  );
  await tty.flush();
  const err = tty.err();
  assert.equal(err.replaceAll('\x1b[K', '').includes('\x1b'), false, JSON.stringify(err));
  assert.ok(!err.includes('\u202e'));
  assert.ok(err.includes('x\\x1b[31mred\\nline\\u202etxt.exe'), 'shown escaped, so still recognisable');
  assert.equal(err.split('\n').length - 1, 2, 'only the two finished lines end in a newline');
  assert.ok(!tty.out().includes('\x1b'));

  const piped = setup({ tty: false });
  piped.ev.end(evil, 10, 10, 'sent');
  await piped.flush();
  assert.ok(!piped.out().includes('\x1b'));
  assert.ok(!renderBar({ name: evil, bytes: 1, size: 2, rateBps: 1, width: 80 }).includes('\x1b'));
  assert.equal(piped.out().split('\n').length, 2, 'one line');
});

test('piped, human: no bars, one line per finished file on stdout', async () => {
  const v = setup({ tty: false });
  v.ev.start('a/b.txt', MiB);
  v.clock.t = 500;
  v.ev.progress('a/b.txt', MiB / 2, MiB);
  v.ev.end('a/b.txt', MiB, MiB, 'sent');
  v.ev.end('c.txt', 2 * MiB, MiB, 'received', MiB);
  v.ev.end('old.txt', 5, 0, 'skipped');
  v.view.summary(summary());
  await v.flush();
  assert.equal(v.err(), '');
  assert.deepEqual(v.out().split('\n'), [
    'sent     a/b.txt  1.0 MiB',
    'received c.txt  2.0 MiB  (resumed at 1.0 MiB)',
    'skipped  old.txt (exists)',
    'sent 3 files, 1.0 GiB in 1.52 s (673.7 MiB/s) to 127.0.0.1:40000',
    '',
  ]);
});

test('a file skipped as already received says so: piped, on a terminal and in JSON', async () => {
  const already = 'already received: same size and time';
  const piped = setup({ tty: false });
  piped.ev.end('photos/a.jpg', 5, 0, 'skipped', 0, already);
  await piped.flush();
  assert.equal(piped.out(), 'skipped  photos/a.jpg (already received: same size and time)\n');

  const tty = setup({ tty: true, columns: 60 });
  tty.ev.end('photos/a-rather-long-name-of-a-photo.jpg', 5, 0, 'skipped', 0, already);
  await tty.flush();
  const line = tty.err().replace('\r', '').replace('\x1b[K\n', '');
  assert.ok(line.endsWith(' skipped (already received: same size and time)'), line);
  assert.ok(line.length <= 59, `fits the terminal: ${line.length} columns`);

  const json = setup({ tty: false, json: true });
  json.ev.end('photos/a.jpg', 5, 0, 'skipped', 0, already);
  json.ev.end('b.jpg', 5, 0, 'skipped', 0, 'exists');
  await json.flush();
  assert.deepEqual(
    json
      .out()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [
      {
        event: 'file',
        path: 'photos/a.jpg',
        size: 5,
        sentBytes: 0,
        resumedFrom: 0,
        status: 'skipped',
        reason: already,
      },
      {
        event: 'file',
        path: 'b.jpg',
        size: 5,
        sentBytes: 0,
        resumedFrom: 0,
        status: 'skipped',
        reason: 'exists',
      },
    ],
  );
});

test('JSON: throttled progress, a file event per file, and a summary', async () => {
  const v = setup({ tty: true, json: true });
  v.ev.start('j\x1b.bin', 10 * MiB, 2 * MiB);
  for (let i = 1; i <= 10; i++) {
    v.clock.t = i * 30;
    v.ev.progress('j\x1b.bin', 2 * MiB + i * 100_000, 10 * MiB);
  }
  v.ev.end('j\x1b.bin', 10 * MiB, 8 * MiB, 'sent', 2 * MiB);
  const done = summary({ files: 1, bytes: 10 * MiB, sentBytes: 8 * MiB, seconds: 0.5 });
  v.view.summary(done);
  v.view.summary(summary({ seconds: 0, ok: false, error: { code: 'NETKIT_X', message: 'reset' } }));
  await v.flush();
  assert.equal(v.err(), '', 'no bars with --json');
  const lines = v.out().trimEnd().split('\n');
  const events = lines.map((l) => JSON.parse(l));
  const progress = events.filter((e) => e.event === 'progress');
  assert.equal(progress.length, 2, 'at 120 and 240 ms: never closer than the interval');
  assert.deepEqual(progress[0], {
    event: 'progress',
    path: 'j\x1b.bin',
    bytes: 2 * MiB + 400_000,
    total: 10 * MiB,
    rate: 3_333_333,
  });
  const file = events.find((e) => e.event === 'file');
  assert.deepEqual(file, {
    event: 'file',
    path: 'j\x1b.bin',
    size: 10 * MiB,
    sentBytes: 8 * MiB,
    resumedFrom: 2 * MiB,
    status: 'sent',
  });
  const [ok, failed] = events.filter((e) => e.event === 'summary');
  assert.deepEqual(ok, { event: 'summary', ...done, mibPerSec: 16 }, 'MiB/s counts only what moved');
  assert.equal(failed.mibPerSec, 0, 'no division by zero');
  assert.deepEqual(failed.error, { code: 'NETKIT_X', message: 'reset' });
});

test('quiet: only the summary', async () => {
  for (const tty of [true, false]) {
    const v = setup({ tty, quiet: true });
    v.ev.start('q', 10);
    v.clock.t = 500;
    v.ev.progress('q', 5, 10);
    v.ev.end('q', 10, 10, 'sent');
    v.view.summary(summary({ files: 1, bytes: 10, sentBytes: 10, seconds: 0.01 }));
    await v.flush();
    assert.equal(v.err(), '');
    assert.equal(v.out(), 'sent 1 file, 10 B in 0.01 s (1000 B/s) to 127.0.0.1:40000\n');
  }
});

test('summary: an unfinished bar is wiped before the summary', async () => {
  const v = setup({ tty: true });
  v.ev.start('p', 10);
  v.view.summary(
    summary({ ok: false, files: 0, error: { code: 'NETKIT_CLOSED', message: 'peer went away' } }),
  );
  await v.flush();
  assert.ok(v.err().endsWith('\r\x1b[K'));
  assert.equal(v.out(), 'send to 127.0.0.1:40000 failed after 0 files: peer went away [NETKIT_CLOSED]\n');
});

test('summaryLine: send, receive, skipped, resumed and failed', () => {
  assert.equal(summaryLine(summary()), 'sent 3 files, 1.0 GiB in 1.52 s (673.7 MiB/s) to 127.0.0.1:40000');
  assert.equal(
    summaryLine(summary({ role: 'recv', skipped: 1, seconds: 2 })),
    'received 3 files (1 skipped), 1.0 GiB in 2.00 s (512.0 MiB/s) from 127.0.0.1:40000',
  );
  assert.equal(
    summaryLine(summary({ files: 1, sentBytes: 256 * MiB, seconds: 1 })),
    'sent 1 file, 1.0 GiB (256 MiB this run) in 1.00 s (256.0 MiB/s) to 127.0.0.1:40000',
    'the rate counts only what moved',
  );
  assert.equal(
    summaryLine(summary({ role: 'recv', files: 0, skipped: 2, bytes: 0, sentBytes: 0, seconds: 0 })),
    'received 0 files (2 skipped), 0 B in 0.00 s from 127.0.0.1:40000',
  );
  assert.equal(
    summaryLine(summary({ files: 1, skipped: 2, alreadyReceived: 2, seconds: 1 })),
    'sent 1 file (2 already there), 1.0 GiB in 1.00 s (1.0 GiB/s) to 127.0.0.1:40000',
  );
  assert.equal(
    summaryLine(summary({ role: 'recv', files: 0, skipped: 3, alreadyReceived: 1, seconds: 1 })),
    'received 0 files (2 skipped, 1 already there), 1.0 GiB in 1.00 s (1.0 GiB/s) from 127.0.0.1:40000',
  );
  assert.equal(
    summaryLine(summary({ seconds: 125 })),
    'sent 3 files, 1.0 GiB in 2:05 (8.2 MiB/s) to 127.0.0.1:40000',
  );
  assert.equal(
    summaryLine(
      summary({ role: 'recv', ok: false, files: 2, error: { code: 'NETKIT_IO', message: 'disk full' } }),
    ),
    'receive from 127.0.0.1:40000 failed after 2 files: disk full [NETKIT_IO]',
  );
});
