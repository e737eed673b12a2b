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

test('netkit tour --list names chapters; one chapter runs alone; unknown ones exit 2', async () => {
  const list = await cli(['tour', '--list']);
  assert.match(list.stdout, /sticky-packets/);
  const one = await cli(['tour', 'half-close']);
  assert.equal(one.code, 0);
  assert.match(one.stdout, /1 of 1 chapters passed/);
  const bad = await cli(['tour', 'nope']);
  assert.equal(bad.code, 2);
});
