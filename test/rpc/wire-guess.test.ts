/** guessWire: which protocol the first bytes of a server's answer are in, at every length they may arrive in. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GobServerCodec } from '../../src/rpc/codec/gob.js';
import { guessWire } from '../../src/rpc/wire-guess.js';

const gobReply = new GobServerCodec({ maxMessageBytes: 1 << 20 }).encodeResponse(
  { serviceMethod: 'Arith.Multiply', seq: 0, error: '' },
  56,
);

// [name, bytes, what the whole of them is]
const CASES: [string, Buffer, string | undefined][] = [
  ["Go's first gob reply (a type definition)", gobReply, 'gob'],
  ['gob with a two-byte count', Buffer.from('fe0100ff81', 'hex'), 'gob'],
  ['net/rpc/jsonrpc', Buffer.from('{"id":0,"result":56,"error":null}\n'), 'json'],
  ['JSON-RPC 2.0', Buffer.from('{"jsonrpc":"2.0","result":56,"id":0}\n'), 'jsonrpc2'],
  ['a JSON-RPC 2.0 batch', Buffer.from('[{"jsonrpc":"2.0","result":56,"id":0}]'), 'jsonrpc2'],
  ['JSON after whitespace', Buffer.from('\r\n {"id":0}'), 'json'],
  ['JSON-RPC 2.0 after whitespace', Buffer.from('\n{"jsonrpc":"2.0","result":1,"id":0}'), 'jsonrpc2'],
  ['JSON-RPC 2.0 with its member last', Buffer.from('{"id":0,"result":[1,2,3],"jsonrpc":"2.0"}'), 'jsonrpc2'],
  ['HTTP', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), 'http'],
  ["Go's RPC handshake answer", Buffer.from('HTTP/1.0 200 Connected to Go RPC\n\n'), 'http'],
  ['text that is none of them', Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), undefined],
  ['nothing', Buffer.alloc(0), undefined],
];

describe('guessWire', () => {
  for (const [name, bytes, want] of CASES) {
    it(`${name}: ${want ?? 'unknown'}, and never another answer on a prefix`, () => {
      assert.equal(guessWire(bytes), want);
      // As the bytes arrive, the guess is undefined until it is the final one.
      for (let n = 0; n <= bytes.length; n++) {
        const got = guessWire(bytes.subarray(0, n));
        assert.ok(got === undefined || got === want, `#${n}: got ${got} want ${want}`);
      }
    });
  }

  it('a lone { or [ is undecided: it may be a gob count', () => {
    assert.equal(guessWire(Buffer.from('{')), undefined);
    assert.equal(guessWire(Buffer.from('[')), undefined);
    assert.equal(guessWire(Buffer.from('7bff81', 'hex')), 'gob');
  });
});
