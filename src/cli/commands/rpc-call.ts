import { InvalidArgumentError } from '../../errors.js';
import { terminalSafeJson } from '../../internal/text.js';
import { dialJsonRpc2, dialRpc, parseJson, parseSchemaNotation, stringifyJson } from '../../rpc/index.js';
import { UNIX_PREFIX } from '../../tcp/index.js';
import { Command } from '../commander.js';
import { EXIT } from '../exit-codes.js';
import { durationOption, jsonOption } from '../options.js';
import type { CliContext } from '../program.js';
import { addProxyFlags, type ProxyFlags, proxyFromFlag, proxyHelp } from '../proxy-flags.js';
import { addTlsFlags, secureUrl, TLS_HELP, type TlsFlags, tlsFromFlags, wantsTls } from '../tls-flags.js';
import { codecOption } from './rpc-serve.js';

interface RpcCallFlags extends TlsFlags, ProxyFlags {
  codec: 'gob' | 'json' | 'jsonrpc2';
  http?: boolean;
  schema?: string;
  timeout: number;
  json?: boolean;
}

/** rpcCallCommand defines `netkit rpc call`. */
export function rpcCallCommand(ctx: CliContext): Command {
  const cmd = new Command('call')
    .description(
      'call a method on a Go net/rpc (gob or json) or JSON-RPC 2.0 server and print the reply as JSON',
    )
    .argument('<address>', 'host:port or unix:/path (or an http:// URL for jsonrpc2 --http)')
    .argument('<method>', 'Service.Method, e.g. Arith.Multiply')
    .argument('[args]', 'the arguments as JSON', 'null')
    .addOption(codecOption())
    .option('--http', 'gob/json: dial over HTTP CONNECT (rpc.DialHTTP); jsonrpc2: HTTP POST')
    .option('--schema <types>', 'gob type of the args, e.g. \'{"A":"int","B":"float"}\' (default: inferred)')
    .addOption(durationOption('--timeout <duration>', 'give up after this long (connect and call)', '10s'))
    .addOption(jsonOption());
  addProxyFlags(cmd, false);
  return addTlsFlags(cmd, 'address')
    .addHelpText(
      'after',
      `
Integers are sent as Go int and other numbers as float64 unless --schema says
otherwise; integers beyond 2^53 stay exact. A server error goes to stderr and
exits 1 (NETKIT_RPC_SERVER_ERROR); a failed connection exits 3, a timeout 4.
A server that speaks another codec or transport than --codec and --http say
fails at once with NETKIT_RPC_PROTOCOL (exit 1), naming what it speaks.
A proxy refusing the tunnel exits 3; --proxy works for gob, json and jsonrpc2 over TCP
(not jsonrpc2 --http).
${TLS_HELP}
${proxyHelp(false)}

Examples:
  netkit rpc call 127.0.0.1:1234 Arith.Multiply '{"A":7,"B":8}'
  netkit rpc call 127.0.0.1:1234 Arith.Divide '{"A":7,"B":0}' --codec json
  netkit rpc call http://127.0.0.1:8080/ Arith.Multiply '{"A":7,"B":8}' --codec jsonrpc2 --http
  netkit rpc call 127.0.0.1:1234 Arith.Multiply '{"A":7,"B":8}' --pin sha256:3f1c…   # rpc serve --tls
  netkit rpc call unix:/run/rpc.sock Arith.Multiply '{"A":7,"B":8}'`,
    )
    .action(async (address: string, method: string, argsText: string, flags: RpcCallFlags) => {
      ctx.exitCode = await runCall(ctx, address, method, argsText, flags);
    });
}

async function runCall(
  ctx: CliContext,
  address: string,
  method: string,
  argsText: string,
  flags: RpcCallFlags,
) {
  const json = Boolean(flags.json);
  let args: unknown;
  try {
    args = parseJson(argsText);
  } catch (err) {
    throw new InvalidArgumentError('args', `not JSON: ${(err as Error).message}`);
  }
  const schema = flags.schema === undefined ? undefined : parseSchemaNotation(flags.schema);
  const timeout = flags.timeout;
  const started = performance.now();
  let reply: unknown;
  const tls = await tlsFromFlags(flags);
  const proxy = proxyFromFlag(flags);
  if (proxy !== undefined && flags.codec === 'jsonrpc2' && flags.http) {
    throw new InvalidArgumentError(
      '--proxy',
      'jsonrpc2 --http does not go through a proxy; jsonrpc2 over TCP, gob and json do',
    );
  }
  if (flags.codec === 'jsonrpc2') {
    const target = flags.http ? httpTarget(address, flags) : address;
    const client = await dialJsonRpc2(target, {
      timeout,
      signal: ctx.io.signal,
      ...(tls !== undefined ? { tls } : {}),
      ...(proxy !== undefined ? { proxy } : {}),
    });
    try {
      reply = await client.call(method, args, { timeout, signal: ctx.io.signal });
    } finally {
      await client.close();
    }
  } else {
    const client = await dialRpc(address, {
      codec: flags.codec,
      http: Boolean(flags.http),
      timeout,
      signal: ctx.io.signal,
      ...(tls !== undefined ? { tls } : {}),
      ...(proxy !== undefined ? { proxy } : {}),
    });
    try {
      reply = await client.call(method, args, { timeout, signal: ctx.io.signal, schema });
    } finally {
      await client.close();
    }
  }
  const ms = performance.now() - started;
  // stringifyJson keeps integers beyond 2^53 exact (Output's JSON.stringify cannot write bigint).
  // The reply is the server's text: escaped like every --json line, so it cannot steer a terminal.
  const shown = json ? { event: 'reply', method, reply: reply ?? null, ms } : (reply ?? null);
  ctx.io.stdout.write(`${terminalSafeJson(stringifyJson(shown))}\n`);
  return EXIT.OK;
}

/**
 * httpTarget is the URL JSON-RPC over HTTP posts to: a URL as given (--tls
 * makes http:// https://); `host:port` or `unix:/path` as its http:// URL,
 * https:// when a TLS flag is given (as for any address).
 */
function httpTarget(address: string, flags: TlsFlags): string {
  if (/^https?:\/\//i.test(address)) return secureUrl(address, flags);
  const scheme = wantsTls(flags) ? 'https' : 'http';
  // A Unix socket in got's form, as the servers print it: http://unix:/path:/.
  return address.startsWith(UNIX_PREFIX) ? `${scheme}://${address}:/` : `${scheme}://${address}/`;
}
