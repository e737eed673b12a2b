import assert from 'node:assert/strict';
import { test } from 'node:test';
import type WebSocket from 'ws';
import { SendWindow } from '../../src/ws/server/send-window.js';

/** pinger stands in for a ws socket: it only records the ping payloads the window sends. */
function pinger(): { ws: WebSocket; pings: Buffer[] } {
  const pings: Buffer[] = [];
  return { ws: { ping: (p: Buffer) => pings.push(Buffer.from(p)) } as unknown as WebSocket, pings };
}

test('SendWindow: one ping seen tells nothing about the next token, so later pongs cannot be forged', () => {
  const { ws, pings } = pinger();
  const w = new SendWindow(4096);
  w.sent(ws, 1024);
  w.sent(ws, 1024);
  assert.equal(pings.length, 2);
  const [first, second] = pings as [Buffer, Buffer];
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
