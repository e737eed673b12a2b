import { arith } from '../../rpc/arith.js';
import { dialRpc } from '../../rpc/client/dial.js';
import { ServerError } from '../../rpc/errors.js';
import { Encoder, gob } from '../../rpc/gob/index.js';
import { Registry } from '../../rpc/registry.js';
import { serveRpc } from '../../rpc/server/serve.js';
import type { Chapter } from '../chapter.js';

const Request = gob.struct({ ServiceMethod: gob.string, Seq: gob.uint }, 'Request');

/** RPC: Go's net/rpc Arith example, both codecs, and what the first call looks like on the wire. */
const chapter: Chapter = {
  title: "RPC: Go's Arith example over gob and JSON",
  async run(t) {
    const registry = new Registry().register('Arith', arith);
    for (const codec of ['gob', 'json'] as const) {
      const server = await serveRpc('127.0.0.1:0', registry, { codec, signal: t.signal });
      const client = await dialRpc(server.address, { codec, signal: t.signal });
      try {
        const product = await client.call('Arith.Multiply', { A: 7, B: 8 });
        const quo = await client.call('Arith.Divide', { A: 17, B: 5 });
        const err = await client.call('Arith.Divide', { A: 1, B: 0 }).catch((e: unknown) => e);
        t.say(`${codec}: Multiply{7,8} = ${product}, Divide{17,5} = ${JSON.stringify(quo)}`);
        t.say(`${codec}: Divide{1,0} -> server error "${(err as Error).message}"; the connection stays up`);
        t.check(product === 56, `${codec}: Arith.Multiply`);
        t.check(
          err instanceof ServerError && err.message === 'divide by zero',
          `${codec}: a server error is not a transport error`,
        );
      } finally {
        await client.close();
        await server.close();
      }
    }
    // The first call's bytes, as Go's own client writes them: type definitions travel once per stream.
    const enc = new Encoder();
    const first = Buffer.concat([
      enc.encode({ ServiceMethod: 'Arith.Multiply', Seq: 0 }, Request),
      enc.encode({ A: 7, B: 8 }, gob.struct({ A: gob.int, B: gob.int }, 'Args')),
    ]);
    const second = Buffer.concat([
      enc.encode({ ServiceMethod: 'Arith.Multiply', Seq: 1 }, Request),
      enc.encode({ A: 7, B: 8 }, gob.struct({ A: gob.int, B: gob.int }, 'Args')),
    ]);
    t.say(
      `gob on the wire: the first call takes ${first.length} bytes (types included), the next ${second.length}`,
    );
    t.say(`  ${second.toString('hex').replace(/(..)/g, '$1 ').trim()}`);
    t.check(second.length < first.length, 'gob sends each type once per connection');
    t.fact('gobFirstCallBytes', first.length);
  },
};
export default chapter;
