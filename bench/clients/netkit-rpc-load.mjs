// The netkit load generator of the rpc benchmark: ONE connection, -inflight
// async loops of `await client.call('Arith.Multiply', {A: 7, B: 8})` on it,
// multiplexed by the client (sequence numbers for gob/json, ids for
// jsonrpc2). Flags and output are those of bench/go/rpcload; see load.mjs.
//
//   -codec gob       dialRpc(addr, { codec: 'gob' })    Go's net/rpc
//   -codec json      dialRpc(addr, { codec: 'json' })   Go's net/rpc/jsonrpc
//   -codec jsonrpc2  dialJsonRpc2(addr)              JSON-RPC 2.0 over TCP
//
// The clients run with their defaults (the jsonrpc2 client arms its default
// 30 s per-call timeout); only the dial is bounded to 5 s here.
//
// usage: node bench/clients/netkit-rpc-load.mjs -addr 127.0.0.1:1234 -codec gob -inflight 64 -duration 5s
import { dialJsonRpc2, dialRpc } from '../../dist/rpc/index.js';
import { ARGS, parseFlags, runLoad } from './load.mjs';

const NAME = 'netkit-rpc-load';
const flags = parseFlags(NAME, process.argv.slice(2), ['gob', 'json', 'jsonrpc2']);

let client;
try {
  client =
    flags.codec === 'jsonrpc2'
      ? await dialJsonRpc2(flags.addr, { connectTimeout: 5000 })
      : await dialRpc(flags.addr, { codec: flags.codec, timeout: 5000 });
} catch (err) {
  process.stderr.write(`${NAME}: dial ${flags.addr}: ${err?.message ?? err}\n`);
  process.exit(1);
}

await runLoad(
  NAME,
  flags,
  () => client.call('Arith.Multiply', ARGS),
  () => client.close(),
);
