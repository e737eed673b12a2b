import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { arith } from '../../rpc/arith.js';
import { serveJsonRpc2Http, serveJsonRpc2Tcp } from '../../rpc/jsonrpc2/index.js';
import { Registry, type ServiceSchemas } from '../../rpc/registry.js';
import { serveRpc } from '../../rpc/server/serve.js';
import { listen } from '../../tcp/index.js';
import { EXIT } from '../exit-codes.js';
import {
  jsonOption,
  networkOption,
  type ProxyFlags,
  proxyFromFlags,
  proxyProtocolOption,
  trustOption,
} from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';

interface RpcServeFlags extends ProxyFlags {
  network: string;
  codec: 'gob' | 'json' | 'jsonrpc2';
  http?: boolean;
  service: string[];
  json?: boolean;
}

/** DEFAULT_RPC_ADDRESS is where `netkit rpc serve` listens by default (the classic example's port). */
export const DEFAULT_RPC_ADDRESS = '127.0.0.1:1234';

/** codecOption is --codec for rpc serve and rpc call. */
export function codecOption(): Option {
  return new Option(
    '--codec <codec>',
    'gob (Go net/rpc), json (Go net/rpc/jsonrpc) or jsonrpc2 (JSON-RPC 2.0)',
  )
    .choices(['gob', 'json', 'jsonrpc2'])
    .default('gob');
}

/**
 * loadServices imports a module and registers what it exports: `services`
 * (an object of service name → methods) and optionally `schemas` (service
 * name → method → { reply }), or a default export of the same shape.
 */
async function loadServices(registry: Registry, file: string): Promise<string[]> {
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  const root = (mod.services ??
    (mod.default as Record<string, unknown> | undefined)?.services ??
    mod.default) as Record<string, Record<string, never>> | undefined;
  const schemas = (mod.schemas ??
    (mod.default as Record<string, unknown> | undefined)?.schemas ??
    {}) as Record<string, ServiceSchemas>;
  if (typeof root !== 'object' || root === null) {
    throw new Error(`${file}: export "services" (an object of service name → methods)`);
  }
  const names = Object.keys(root);
  for (const name of names) registry.register(name, root[name]!, schemas[name]);
  return names;
}

/** rpcServeCommand defines `netkit rpc serve`. */
export function rpcServeCommand(ctx: CliContext): Command {
  return new Command('serve')
    .description("serve the classic Arith service (and yours) over Go's net/rpc or JSON-RPC 2.0")
    .argument('[address]', 'host:port to listen on', DEFAULT_RPC_ADDRESS)
    .addOption(networkOption('tcp'))
    .addOption(codecOption())
    .option(
      '--http',
      'gob/json: serve over HTTP CONNECT /_goRPC_ (rpc.HandleHTTP) with /debug/rpc; jsonrpc2: HTTP POST',
    )
    .option(
      '--service <module>',
      'also serve the services a JavaScript module exports as `services` (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .addOption(proxyProtocolOption())
    .addOption(trustOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Arith.Multiply({A, B}) returns A*B; Arith.Divide({A, B}) returns {Quo, Rem}, or
the error "divide by zero". Go's rpc.Dial, jsonrpc.Dial and rpc.DialHTTP clients
call it unchanged.

Examples:
  netkit rpc serve                          # gob on 127.0.0.1:1234, like rpc.ServeConn
  netkit rpc serve :1234 --http             # like rpc.HandleHTTP; see /debug/rpc
  netkit rpc serve --codec jsonrpc2 --http  # JSON-RPC 2.0 over HTTP POST`,
    )
    .action(async (address: string, flags: RpcServeFlags) => {
      ctx.exitCode = await runServe(ctx, address, flags);
    });
}

async function runServe(ctx: CliContext, address: string, flags: RpcServeFlags): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const registry = new Registry().register('Arith', arith);
  const proxy = proxyFromFlags(flags);
  const extra: string[] = [];
  for (const file of flags.service) extra.push(...(await loadServices(registry, file)));
  const services = ['Arith', ...extra];
  let bound: string;
  let close: () => Promise<void>;
  if (flags.codec === 'jsonrpc2') {
    const server = flags.http
      ? await serveJsonRpc2Http(address, registry, { network: flags.network, ...(proxy ? { proxy } : {}) })
      : await serveJsonRpc2Tcp(
          proxy ? await listen(address, { network: flags.network, proxy }) : address,
          registry,
          { network: flags.network },
        );
    bound = server.address;
    close = () => server.close();
  } else {
    const server = await serveRpc(address, registry, {
      codec: flags.codec,
      http: Boolean(flags.http),
      network: flags.network,
      ...(proxy ? { proxy } : {}),
    });
    bound = server.address;
    close = () => server.close();
  }
  const how = `${flags.codec}${flags.http ? ' over HTTP' : ''}`;
  out.event(
    'listening',
    { address: bound, codec: flags.codec, http: Boolean(flags.http), services, pid: process.pid },
    `listening ${bound} (${how}; services ${services.join(', ')})`,
  );
  await new Promise<void>((resolve) => {
    if (ctx.io.signal.aborted) resolve();
    ctx.io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await close();
  out.note('stopped', { address: bound }, 'stopped');
  return EXIT.OK;
}
