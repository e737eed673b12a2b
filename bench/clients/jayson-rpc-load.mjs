// The jayson load generator of the rpc benchmark (the JSON-RPC 2.0
// baseline): -inflight async loops, each awaiting one
// `client.request('Arith.Multiply', {A: 7, B: 8}, cb)` at a time on jayson's
// TCP client (`jayson.client.tcp({ host, port })`), wrapped in a promise.
// Flags and output are those of bench/go/rpcload; see load.mjs.
//
// jayson 5's TCP client opens a new connection for every request
// (net.connect → write the request + "\n" → read one answer → end), so
// there is no "one connection" here: -inflight 64 means 64 connections being
// opened and closed concurrently. That is what a jayson user gets, and it is
// kept; the benchmark's notes say so.
//
// usage: node bench/clients/jayson-rpc-load.mjs -addr 127.0.0.1:1234 -codec jsonrpc2 -inflight 64 -duration 5s
import jayson from 'jayson';
import { ARGS, parseFlags, runLoad, splitHostPort } from './load.mjs';

const NAME = 'jayson-rpc-load';
const flags = parseFlags(NAME, process.argv.slice(2), ['jsonrpc2']);
const client = jayson.client.tcp(splitHostPort(flags.addr));

const call = () =>
  new Promise((resolve, reject) => {
    client.request('Arith.Multiply', ARGS, (err, response) => {
      if (err) reject(err);
      else if (!response || typeof response !== 'object') reject(new Error('no answer'));
      else if (response.error) reject(new Error(`server error ${JSON.stringify(response.error)}`));
      else resolve(response.result);
    });
  });

await runLoad(NAME, flags, call, () => {});
