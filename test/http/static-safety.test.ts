import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import type { RequestInfo } from '../../src/http/inspect.js';
import { serveHttp } from '../../src/http/server/index.js';
import { fixture, raw, SECRET } from './static-fixture.js';

describe('serveHttp({ dir }) safety', () => {
  it('never escapes the root, however ".." is spelled', async (t) => {
    const { server } = await fixture(t);
    const targets: [string, number][] = [
      ['/../secret.txt', 400],
      ['/../../secret.txt', 400],
      ['/sub/../../secret.txt', 400],
      ['/%2e%2e/secret.txt', 400],
      ['/%2E%2E/secret.txt', 400],
      ['/.%2e/secret.txt', 400],
      ['/..%2fsecret.txt', 400],
      ['/..%2Fsecret.txt', 400],
      ['/sub/..%2f..%2fsecret.txt', 400],
      ['/..%5csecret.txt', 400],
      ['/..\\secret.txt', 400],
      ['/sub\\..\\..\\secret.txt', 400],
      ['//../secret.txt', 400],
      ['/./hello.txt', 400],
      ['/%252e%252e/secret.txt', 404],
      ['/secret.txt', 404],
      ['/private/secret.txt', 404],
      ['http://test/../secret.txt', 404],
      ['http://test/%2e%2e/secret.txt', 404],
      ['/hello.txt%00', 400],
      ['/%00/secret.txt', 400],
      ['/%zz', 400],
      ['/%', 400],
      ['/%e0%a4%a', 400],
      ['*', 400],
    ];
    for (const [target, status] of targets) {
      const res = await raw(server.address, target);
      assert.equal(res.status, status, target);
      assert.ok(!res.body.toString('latin1').includes(SECRET), `${target} leaked the secret`);
    }
  });

  it('does not follow symlinks out of the root', async (t) => {
    const { base } = await fixture(t);
    for (const p of ['/leak.txt', '/leakdir/secret.txt', '/leakdir/', '/leakdir', '/env-alias.txt']) {
      const res = await fetch(`${base}${p}`, { redirect: 'manual' });
      assert.equal(res.status, 404, p);
      const body = await res.text();
      assert.equal(body, '404 not found\n', p);
    }
    const inside = await fetch(`${base}/alias.txt`);
    assert.equal(inside.status, 200, 'a symlink to a file inside the root is served');
    assert.equal(await inside.text(), 'hello, world\n');
  });

  it('follows symlinks that stay inside the root, however they are written', async (t) => {
    const { root, base } = await fixture(t);
    const link = (target: string, name: string) => fs.symlink(target, path.join(root, name));
    await link('sub/../hello.txt', 'up.txt');
    await link('../hello.txt', 'sub/rel.txt');
    await link('alias.txt', 'chain.txt'); // a link to a link
    await link('sub', 'subdir');
    await link(await fs.realpath(root), 'self'); // absolute, through the root's real path
    await link('loop-b', 'loop-a');
    await link('loop-a', 'loop-b');
    await link('../../secret.txt', 'sub/climb.txt');
    await link('sub/../../secret.txt', 'climb2.txt');
    await link(`${root}/../secret.txt`, 'climb3.txt');
    await link('sub/../.env', 'dot.txt');
    await link('leakdir/secret.txt', 'via-leak.txt');
    for (const p of ['/up.txt', '/sub/rel.txt', '/chain.txt', '/self/hello.txt', '/self/self/alias.txt']) {
      const res = await fetch(`${base}${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(await res.text(), 'hello, world\n', p);
    }
    assert.equal(await (await fetch(`${base}/subdir/inner.txt`)).text(), 'inner\n');
    const listed = await fetch(`${base}/subdir/`, { headers: { accept: 'application/json' } });
    assert.deepEqual(
      ((await listed.json()) as { name: string }[]).map((e) => e.name),
      ['deeper', 'inner.txt', 'rel.txt'],
      'climb.txt leads out of the root: not listed',
    );
    for (const p of [
      '/loop-a',
      '/sub/climb.txt',
      '/climb2.txt',
      '/climb3.txt',
      '/dot.txt',
      '/via-leak.txt',
    ]) {
      const res = await fetch(`${base}${p}`);
      assert.equal(res.status, 404, p);
      assert.ok(!(await res.text()).includes(SECRET), p);
    }
  });

  it('closes every descriptor it opens, also for aborted and refused requests', async (t) => {
    const { root, outer, base, server } = await fixture(t);
    await fs.writeFile(path.join(root, 'big.bin'), Buffer.alloc(8 * 1024 * 1024));
    // descriptors for files and directories under the fixture (sockets come and go with the client's pool)
    const open = async () => {
      const fds = await fs.readdir('/proc/self/fd');
      const targets = await Promise.all(fds.map((fd) => fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')));
      return targets.filter((p) => p.startsWith(outer)).length;
    };
    const before = await open();
    assert.equal(before, 0);
    for (let i = 0; i < 20; i++) {
      for (const p of ['/hello.txt', '/', '/site/', '/sub', '/leak.txt', '/missing', '/alias.txt']) {
        await (await fetch(`${base}${p}`)).arrayBuffer();
      }
      await raw(server.address, '/hello.txt', 'HEAD');
      await raw(server.address, '/hello.txt', 'GET', 'Range: bytes=100-\r\n');
      await raw(server.address, '/hello.txt', 'GET', 'If-None-Match: *\r\n');
      await raw(server.address, '/hello.txt', 'GET', 'If-Match: "other"\r\n');
      // a client that leaves after the first bytes of a large file
      const res = await fetch(`${base}/big.bin`);
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
    }
    let after = await open();
    for (let i = 0; i < 50 && after > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await open();
    }
    assert.equal(after, 0, `${after} descriptors left open`);
  });

  it('hides dotfiles', async (t) => {
    const { server } = await fixture(t);
    for (const p of ['/.env', '/%2eenv', '/.git/config', '/.git/', '/sub/.hidden', '/.git']) {
      const res = await raw(server.address, p);
      assert.equal(res.status, 404, p);
      assert.ok(!res.body.toString().includes(SECRET), p);
    }
  });

  it('answers 404 for missing files and for a file used as a directory', async (t) => {
    const { base } = await fixture(t);
    for (const p of ['/missing.txt', '/hello.txt/', '/hello.txt/x', '/sub/missing/', '/nope/']) {
      const res = await fetch(`${base}${p}`);
      assert.equal(res.status, 404, p);
      assert.equal(await res.text(), '404 not found\n', p);
    }
    const json = await fetch(`${base}/missing.txt`, { headers: { accept: 'application/json' } });
    assert.deepEqual(await json.json(), { status: 404, error: 'not found' });
  });

  it('does not serve the greeting or inspector', async (t) => {
    const { base } = await fixture(t);
    const res = await fetch(`${base}/hello?status=418&body=x`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 404);
    await res.text();
  });

  it('reports every request to onRequest', async (t) => {
    const seen: RequestInfo[] = [];
    const { base } = await fixture(t, { onRequest: (info) => seen.push(info) });
    await (await fetch(`${base}/hello.txt?x=1`)).text();
    await (await fetch(`${base}/missing`)).text();
    assert.deepEqual(
      seen.map((i) => [i.method, i.path, i.body.kind]),
      [
        ['GET', '/hello.txt', 'empty'],
        ['GET', '/missing', 'empty'],
      ],
    );
    assert.deepEqual({ ...seen[0]!.query }, { x: '1' });
  });

  it('rejects a dir that is missing, not a directory, or not a string', async (t) => {
    const outer = await fs.mkdtemp(path.join(os.tmpdir(), 'netkit-static-'));
    t.after(() => fs.rm(outer, { recursive: true, force: true }));
    const missing = path.join(outer, 'missing');
    await assert.rejects(serveHttp('127.0.0.1:0', { dir: missing }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.code, 'NETKIT_INVALID_ARGUMENT');
      assert.equal(err.option, 'dir');
      assert.ok(err.message.includes(missing), err.message);
      return true;
    });
    const file = path.join(outer, 'file.txt');
    await fs.writeFile(file, 'x');
    await assert.rejects(serveHttp('127.0.0.1:0', { dir: file }), {
      code: 'NETKIT_INVALID_ARGUMENT',
      message: `dir: "${file}" is not a directory`,
    });
    await assert.rejects(serveHttp('127.0.0.1:0', { dir: 42 as unknown as string }), InvalidArgumentError);
    await assert.rejects(serveHttp('127.0.0.1:0', { dir: '' }), InvalidArgumentError);
  });
});
