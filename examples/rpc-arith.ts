// The classic Go net/rpc example, with netkit: register Arith, serve it with
// Go's gob protocol, then call Arith.Multiply and Arith.Divide as Go's
// rpc.Dial client would. A stock Go client can call this server unchanged,
// and the client half can call a stock Go server.
//
//   node --import tsx examples/rpc-arith.ts            # server and client in one process
//   node --import tsx examples/rpc-arith.ts serve :1234
//   node --import tsx examples/rpc-arith.ts call 127.0.0.1:1234
import { dialRpc, Registry, ServerError, serveRpc } from 'netkit/rpc';

type Args = { A: number; B: number };

const registry = new Registry().register('Arith', {
  Multiply: (args) => (args as Args).A * (args as Args).B,
  Divide: (args) => {
    const { A, B } = args as Args;
    if (B === 0) throw new Error('divide by zero');
    return { Quo: Math.trunc(A / B), Rem: A % B };
  },
});

async function call(address: string): Promise<void> {
  const client = await dialRpc(address);
  try {
    const product = await client.call('Arith.Multiply', { A: 7, B: 8 });
    console.log(`Arith: 7*8=${product}`);
    const quo = (await client.call('Arith.Divide', { A: 17, B: 5 })) as { Quo: number; Rem: number };
    console.log(`Arith: 17/5=${quo.Quo} remainder ${quo.Rem}`);
    await client.call('Arith.Divide', { A: 1, B: 0 }).catch((err: unknown) => {
      if (!(err instanceof ServerError)) throw err;
      console.log(`Arith: 1/0 -> server error: ${err.message}`);
    });
  } finally {
    await client.close();
  }
}

const [mode, address] = process.argv.slice(2);
if (mode === 'serve') {
  const server = await serveRpc(address ?? '127.0.0.1:1234', registry);
  console.log(`listening ${server.address}`);
  process.once('SIGINT', () => void server.close());
  await server.tcp.done;
} else if (mode === 'call') {
  await call(address ?? '127.0.0.1:1234');
} else {
  const server = await serveRpc('127.0.0.1:0', registry);
  await call(server.address);
  await server.close();
}
