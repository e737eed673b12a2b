import assert from 'node:assert/strict';
import type net from 'node:net';
import { test } from 'node:test';
import { client, next, startWs } from '../fixtures.js';
import { clientFrame, rawUpgrade } from '../raw.js';

/** readBytes resolves with exactly `n` bytes from a paused socket, failing after `ms`. */
function readBytes(s: net.Socket, n: number, ms = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      s.off('data', onData);
      reject(new Error(`got ${got} of ${n} bytes within ${ms} ms`));
    }, ms);
    const onData = (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got < n) return;
      clearTimeout(timer);
      s.off('data', onData);
      s.pause();
      const all = Buffer.concat(chunks);
      if (got > n) s.unshift(all.subarray(n));
      resolve(all.subarray(0, n));
    };
    s.on('data', onData);
    s.resume();
  });
}

// Each echo's exact header (RFC 6455 §5.2): FIN and opcode, then the shortest length form, no mask.
// 4092 and 4093 bytes sit on either side of the one-buffer limit (a 4096-byte frame).
const ECHOES: readonly { opcode: number; size: number; head: string }[] = [
  { opcode: 2, size: 0, head: '8200' },
  { opcode: 2, size: 125, head: '827d' },
  { opcode: 2, size: 126, head: '827e007e' },
  { opcode: 2, size: 4092, head: '827e0ffc' },
  { opcode: 2, size: 4093, head: '827e0ffd' },
  { opcode: 2, size: 65535, head: '827effff' },
  { opcode: 2, size: 65536, head: '827f0000000000010000' },
  { opcode: 1, size: 5, head: '8105' },
];

test('FrameWriter: echoed frames carry the shortest length form and the payload, byte for byte', async (t) => {
  const server = await startWs(t);
  const s = await rawUpgrade(server.address, '/echo');
  t.after(() => s.destroy());
  for (const [i, c] of ECHOES.entries()) {
    const payload = c.opcode === 1 ? Buffer.from('héllo'.slice(0, 4)) : Buffer.alloc(c.size, i + 1);
    assert.equal(payload.length, c.size, `#${i}: fixture size`);
    s.write(clientFrame(c.opcode, payload));
    const head = Buffer.from(c.head, 'hex');
    const got = await readBytes(s, head.length + c.size);
    assert.equal(got.subarray(0, head.length).toString('hex'), c.head, `#${i}: header of ${c.size} bytes`);
    assert.ok(got.subarray(head.length).equals(payload), `#${i}: payload of ${c.size} bytes`);
  }
});

test('FrameWriter: a send behind a Blob that ws is still reading waits for it (order kept)', async (t) => {
  const server = await startWs(t, {
    handler: async (peer) => {
      for await (const _ of peer) {
        // ws reads a Blob asynchronously and queues what is sent meanwhile; peer.send must queue too.
        peer.socket.send(new Blob([Buffer.from('first')]));
        peer.send(Buffer.from('second'));
      }
    },
  });
  const c = await client(t, server.url);
  await c.send('go');
  assert.equal((await next(c)).data.toString(), 'first');
  assert.equal((await next(c)).data.toString(), 'second');
});

// With maxQueueBytes four times the message, the window's probe is due after every echo. 900 bytes
// take the one-buffer write; 5000 the corked header, payload and ping.
const PROBED: readonly { size: number; head: string }[] = [
  { size: 900, head: '827e0384' },
  { size: 5000, head: '827e1388' },
];

test('FrameWriter: the send window probe follows the echo it counts, and its pong confirms it', async (t) => {
  for (const [i, c] of PROBED.entries()) {
    const server = await startWs(t, { maxPayload: c.size, maxQueueBytes: 4 * c.size });
    const s = await rawUpgrade(server.address, '/echo');
    t.after(() => s.destroy());
    const head = Buffer.from(c.head, 'hex');
    // Eight echoes are twice the window: each is let through only by the pong to the probe before it.
    for (let n = 0; n < 8; n++) {
      const payload = Buffer.alloc(c.size, n + 1);
      s.write(clientFrame(2, payload));
      const got = await readBytes(s, head.length + c.size + 2 + 12);
      assert.equal(got.subarray(0, head.length).toString('hex'), c.head, `#${i}.${n}: header`);
      assert.ok(got.subarray(head.length, head.length + c.size).equals(payload), `#${i}.${n}: payload`);
      const ping = got.subarray(head.length + c.size);
      assert.equal(ping.subarray(0, 2).toString('hex'), '890c', `#${i}.${n}: a ping with a 12-byte token`);
      s.write(clientFrame(0xa, ping.subarray(2)));
    }
    // Gone before the server closes: it need not wait for a closing handshake this socket never answers.
    s.destroy();
  }
});
