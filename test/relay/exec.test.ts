import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ExecError, isNetkitError, NetkitError } from '../../src/errors.js';
import { type ExecExit, ExecSpawner, type ExecStream, splitArgv } from '../../src/relay/exec.js';

test('splitArgv splits words like a shell and does nothing else a shell does', () => {
  const cases: [string, string[]][] = [
    ['/bin/cat', ['/bin/cat']],
    ['  sh   -c\t"echo hi"  ', ['sh', '-c', 'echo hi']],
    ["sh -c 'read x; echo got:$x'", ['sh', '-c', 'read x; echo got:$x']],
    ['echo a;b | c && d', ['echo', 'a;b', '|', 'c', '&&', 'd']],
    ['echo $HOME ~ *.txt `id`', ['echo', '$HOME', '~', '*.txt', '`id`']],
    ["'it''s'", ['its']],
    ['a"b c"d', ['ab cd']],
    ["a'b\"c'd", ['ab"cd']],
    ['"say \\"hi\\""', ['say "hi"']],
    ['"back\\\\slash"', ['back\\slash']],
    ['"keep \\n and \\$"', ['keep \\n and \\$']],
    ["'no \\escape'", ['no \\escape']],
    ['a\\ b c', ['a b', 'c']],
    ['\\"quoted\\"', ['"quoted"']],
    ['\\\\', ['\\']],
    ['x \'\' "" y', ['x', '', '', 'y']],
    ['printf "%s\\n" é😀', ['printf', '%s\\n', 'é😀']],
    ['a\nb\r\nc', ['a', 'b', 'c']],
  ];
  for (const [i, [input, want]] of cases.entries()) {
    const got = splitArgv(input);
    assert.deepEqual(got, want, `#${i}: splitArgv(${JSON.stringify(input)}) = ${JSON.stringify(got)}`);
  }
});

test('splitArgv refuses an empty command, an open quote and a lone trailing backslash', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    [' \t\n', /empty/],
    ["sh -c 'echo", /unterminated single quote at column 7/],
    ['echo "hi', /unterminated double quote at column 6/],
    ['echo "a\\"', /unterminated double quote/],
    ['echo \\', /backslash/],
  ];
  for (const [i, [input, message]] of cases.entries()) {
    assert.throws(
      () => splitArgv(input),
      (err) => isNetkitError(err, 'NETKIT_INVALID_ARGUMENT') && message.test(err.message),
      `#${i}: ${JSON.stringify(input)}`,
    );
  }
});

/** readAll reads to 'end' without an async iterator, which would destroy the stream when done. */
async function readAll(stream: ExecStream): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(stream, 'end');
  return Buffer.concat(chunks).toString();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

test('bytes written reach the child and its output is read back', async () => {
  const spawner = new ExecSpawner(['/bin/cat']);
  const child = spawner.spawn();
  assert.equal(spawner.running, 1);
  const exited = once(child, 'exit');
  const closed = once(child, 'close');
  const big = Buffer.alloc(1 << 20, 'x');
  child.write('hello ');
  child.write(big);
  child.end('world');
  const out = await readAll(child);
  assert.equal(out.length, 6 + big.length + 5);
  assert.ok(out.startsWith('hello xxx') && out.endsWith('xxxworld'));
  const [exit] = (await exited) as [ExecExit];
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.deepEqual(child.exit, { code: 0, signal: null });
  await closed;
  assert.equal(spawner.running, 0);
});

test('end() half-closes: the child sees EOF on stdin and its output still arrives', async () => {
  const spawner = new ExecSpawner(splitArgv("sh -c 'read x; echo got:$x; cat; echo eof'"));
  const child = spawner.spawn();
  const events: string[] = [];
  child.on('exit', () => events.push('exit'));
  const closed = once(child, 'close');
  child.on('close', () => events.push('close'));
  child.end('line\nrest\n');
  assert.equal(await readAll(child), 'got:line\nrest\neof\n');
  await closed;
  assert.deepEqual(events, ['exit', 'close'], "'exit' comes before 'close'");
  assert.deepEqual(child.exit, { code: 0, signal: null });
  assert.equal(spawner.running, 0);
});

test('a non-zero exit status is reported, not an error', async () => {
  const child = new ExecSpawner(['sh', '-c', 'echo bye; exit 3']).spawn();
  const closed = once(child, 'close');
  child.end();
  assert.equal(await readAll(child), 'bye\n');
  await closed;
  assert.deepEqual(child.exit, { code: 3, signal: null });
});

test('spawn refuses more than maxChildren and counts every child down again', async () => {
  const spawner = new ExecSpawner(['/bin/sleep', '30'], { maxChildren: 2 });
  const a = spawner.spawn();
  const b = spawner.spawn();
  assert.equal(spawner.running, 2);
  assert.throws(
    () => spawner.spawn(),
    (err) =>
      err instanceof ExecError &&
      err instanceof NetkitError &&
      err.code === 'NETKIT_EXEC_LIMIT' &&
      err.limit === 2,
  );
  a.destroy();
  await once(a, 'close');
  assert.equal(spawner.running, 1);
  const c = spawner.spawn();
  assert.equal(spawner.running, 2);
  b.destroy();
  c.destroy();
  await Promise.all([once(b, 'close'), once(c, 'close')]);
  assert.equal(spawner.running, 0);
});

test('destroy kills the child with SIGTERM and reaps it', async () => {
  const spawner = new ExecSpawner(['/bin/sleep', '30']);
  const child = spawner.spawn();
  const pid = child.pid!;
  assert.ok(alive(pid));
  const closed = once(child, 'close');
  child.destroy();
  await closed;
  assert.deepEqual(child.exit, { code: null, signal: 'SIGTERM' });
  assert.equal(alive(pid), false, 'the child is gone, not a zombie');
  assert.equal(spawner.running, 0);
});

test('a child that ignores SIGTERM is killed with SIGKILL after killGrace', async () => {
  const spawner = new ExecSpawner(['sh', '-c', 'trap "" TERM; echo ready; sleep 30'], { killGrace: 200 });
  const child = spawner.spawn();
  const pid = child.pid!;
  await once(child, 'data'); // the trap is set
  const failed = once(child, 'error');
  // once() would reject on the 'error' that comes first.
  const closed = new Promise((resolve) => child.once('close', resolve));
  const started = Date.now();
  child.destroy(new Error('connection closed'));
  const [err] = await failed;
  assert.equal((err as Error).message, 'connection closed');
  await closed;
  const waited = Date.now() - started;
  assert.ok(waited >= 150, `SIGKILL came after ${waited}ms, before killGrace`);
  assert.deepEqual(child.exit, { code: null, signal: 'SIGKILL' });
  assert.equal(alive(pid), false);
  assert.equal(spawner.running, 0);
});

test('a program that cannot be started is an error naming it and the reason', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'netkit-exec-'));
  const notExecutable = path.join(dir, 'script.sh');
  await writeFile(notExecutable, '#!/bin/sh\necho hi\n');
  await chmod(notExecutable, 0o644);
  const cases: [string, string, RegExp][] = [
    [path.join(dir, 'missing'), 'ENOENT', /no such file/],
    ['netkit-no-such-program', 'ENOENT', /no such file/],
    [notExecutable, 'EACCES', /permission denied/],
  ];
  try {
    for (const [i, [program, syscode, words]] of cases.entries()) {
      const spawner = new ExecSpawner([program]);
      const child = spawner.spawn();
      child.write('ignored');
      const [err] = (await once(child, 'error')) as [ExecError];
      assert.ok(err instanceof ExecError, `#${i}`);
      assert.equal(err.code, 'NETKIT_EXEC_FAILED', `#${i}`);
      assert.equal(err.program, program, `#${i}`);
      assert.equal((err.cause as NodeJS.ErrnoException).code, syscode, `#${i}`);
      assert.ok(err.message.includes(JSON.stringify(program)), `#${i}: ${err.message}`);
      assert.match(err.message, words, `#${i}`);
      assert.equal(spawner.running, 0, `#${i}: running goes back down`);
      assert.equal(child.exit, undefined);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('writes to a child that stopped reading are dropped, not an error', async () => {
  const child = new ExecSpawner(['sh', '-c', 'exec 0<&-; echo closed; sleep 0.2']).spawn();
  assert.equal((await once(child, 'data'))[0].toString(), 'closed\n');
  child.on('error', assert.fail);
  for (let i = 0; i < 4; i++) child.write(Buffer.alloc(1 << 16));
  const closed = once(child, 'close');
  child.end();
  await readAll(child);
  await closed;
  assert.deepEqual(child.exit, { code: 0, signal: null });
});

test('ExecSpawner validates its argv and options, naming the one at fault', () => {
  const cases: [() => unknown, string][] = [
    [() => new ExecSpawner([]), 'argv'],
    [() => new ExecSpawner(['']), 'argv[0]'],
    [() => new ExecSpawner(['cat', 'a\0b']), 'argv[1]'],
    [() => new ExecSpawner(['cat'], { maxChildren: 0 }), 'maxChildren'],
    [() => new ExecSpawner(['cat'], { killGrace: -1 }), 'killGrace'],
    [() => new ExecSpawner(['cat'], { cwd: '' }), 'cwd'],
  ];
  for (const [i, [make, option]] of cases.entries()) {
    assert.throws(
      make,
      (err) => isNetkitError(err, 'NETKIT_INVALID_ARGUMENT') && err.message.startsWith(option),
      `#${i}`,
    );
  }
});

test('destroy stops what the child started too (its process group)', async () => {
  const spawner = new ExecSpawner(['sh', '-c', 'sleep 30 & echo $!; wait'], { killGrace: 200 });
  const s = spawner.spawn();
  const [line] = await once(s, 'data');
  const grandchild = Number(String(line).trim());
  assert.ok(alive(grandchild));
  const closed = once(s, 'close');
  s.destroy();
  await closed;
  // Orphaned by the shell, it is reaped by init, which in a container may never do it: a zombie counts as gone.
  const running = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${grandchild}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && running(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(running(), false, 'the background sleep outlived its connection');
});
