import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';

test('netkit tour runs every chapter for real and passes', async () => {
  const r = await cli(['tour', '--json']);
  assert.equal(r.code, 0, r.stdout);
  const events = r.stdout
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as { event: string; ok?: boolean; facts?: Record<string, unknown>; failed?: number },
    );
  const chapters = events.filter((e) => e.event === 'chapter');
  assert.ok(chapters.length >= 4);
  assert.ok(chapters.every((c) => c.ok === true));
  const sticky = chapters.find((c) => c.facts && 'frames' in c.facts)!;
  assert.equal(sticky.facts!.frames, 20);
  assert.ok((sticky.facts!.naiveReads as number) < 20);
  assert.equal(events.at(-1)?.failed, 0);
});

test('netkit tour --list numbers chapters; one runs alone by number or name under its own number; unknown ones exit 2', async () => {
  const list = await cli(['tour', '--list', '--json']);
  const chapters = list.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { n: number; slug: string; title: string });
  assert.deepEqual(
    chapters.map((c) => c.n),
    chapters.map((_, i) => i + 1),
  );
  const halfClose = chapters.find((c) => c.slug === 'half-close')!;
  const last = chapters.at(-1)!;
  assert.equal(last.slug, 'file-transfer');
  const byName = await cli(['tour', 'half-close', '--json']);
  assert.equal(byName.code, 0, byName.stdout);
  const ran = byName.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; n?: number })
    .filter((e) => e.event === 'chapter');
  assert.deepEqual(
    ran.map((e) => e.n),
    [halfClose.n],
  );
  const human = await cli(['tour', String(halfClose.n)]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, new RegExp(`^${halfClose.n}\\. ${halfClose.title}$`, 'm'));
  assert.match(human.stdout, /1 of 1 chapters passed/);
  for (const bad of ['nope', '0', String(chapters.length + 1)]) {
    const r = await cli(['tour', bad]);
    assert.equal(r.code, 2, bad);
  }
});

test('netkit tour --help names every chapter', async () => {
  const list = await cli(['tour', '--list', '--json']);
  // --help wraps its text: compare with the line breaks folded into spaces.
  const help = (await cli(['tour', '--help'])).stdout.toLowerCase().replace(/\s+/g, ' ');
  for (const line of list.stdout.trim().split('\n')) {
    const { slug } = JSON.parse(line) as { slug: string };
    const spaced = slug.replaceAll('-', ' ');
    assert.ok(help.includes(slug) || help.includes(spaced), `tour --help does not mention ${spaced}`);
  }
});

test('the TCP states chapter ends by offering the live page for the port it used', async () => {
  const r = await cli(['tour', 'tcp-states', '--json']);
  assert.equal(r.code, 0, r.stdout);
  const chapter = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; facts?: Record<string, unknown> })
    .find((e) => e.event === 'chapter')!;
  assert.match(String(chapter.facts?.live), /^netkit states --web --port [1-9]\d*$/);
  const human = await cli(['tour', 'tcp-states']);
  const port = /client 127\.0\.0\.1:\d+ \S+ server 127\.0\.0\.1:(\d+)/.exec(human.stdout)?.[1];
  assert.ok(port, human.stdout);
  assert.match(human.stdout, new RegExp(`: netkit states --web --port ${port}$`, 'm'));
});
