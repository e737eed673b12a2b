import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SendWindow } from '../../src/ws/server/send-window.js';

test('SendWindow: one ping seen tells nothing about the next token, so later pongs cannot be forged', () => {
  const w = new SendWindow(4096);
  const first = w.sent(1024);
  const second = w.sent(1024);
  assert.ok(first !== undefined && second !== undefined, 'a probe per quarter window');
  // A peer that read only the first ping guesses the next from it: same prefix, counter + 1.
  const guess = Buffer.from(first);
  guess.writeUInt32BE((first.readUInt32BE(8) + 1) >>> 0, 8);
  assert.equal(w.pong(guess), false);
  assert.equal(w.pong(first), true);
  assert.equal(w.unread, 1024);
  assert.notDeepEqual(first.subarray(0, 8), second.subarray(0, 8));
  assert.equal(w.pong(second), true);
  assert.equal(w.unread, 0);
  // A replayed token confirms nothing more.
  assert.equal(w.pong(second), false);
});

test('SendWindow: tokens keep their bytes and differ from each other across many probes', () => {
  // More probes than one draw of random bytes holds, over several windows.
  const issued: { token: Buffer; copy: Buffer }[] = [];
  for (let i = 0; i < 40; i++) {
    const w = new SendWindow(4096);
    for (let j = 0; j < 4; j++) {
      const token = w.sent(1024);
      assert.ok(token !== undefined, `#${i}.${j}: a probe per quarter window`);
      assert.equal(token.length, 12, `#${i}.${j}: token length`);
      issued.push({ token, copy: Buffer.from(token) });
    }
    // Each window's tokens confirm its own sends, in order.
    for (const [j, { token }] of issued.slice(-4).entries())
      assert.equal(w.pong(token), true, `#${i}.${j}: pong`);
    assert.equal(w.unread, 0);
  }
  const seen = new Set<string>();
  for (const [i, { token, copy }] of issued.entries()) {
    assert.ok(token.equals(copy), `#${i}: token changed after it was handed out`);
    seen.add(copy.toString('hex'));
  }
  assert.equal(seen.size, issued.length);
});
