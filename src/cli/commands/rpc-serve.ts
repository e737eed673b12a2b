import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatDuration } from '../../internal/duration.js';
import { safeText } from '../../internal/text.js';
import { arith } from '../../rpc/arith.js';
import type { CallEvent } from '../../rpc/call-event.js';
import { serveJsonRpc2Http, serveJsonRpc2Tcp } from '../../rpc/jsonrpc2/index.js';
import { Registry, type ServiceSchemas } from '../../rpc/registry.js';
import { serveRpc } from '../../rpc/server/serve.js';
import type { Server } from '../../tcp/index.js';
import { type Command, Option } from '../commander.js';
import { durationOption } from '../options.js';
import type { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { logConnections } from '../serve-log.js';
import { serverCommand } from '../server-command.js';
import type { ServerFlags } from '../server-flags.js';

interface RpcServeFlags extends ServerFlags {
  codec: 'gob' | 'json' | 'jsonrpc2';
  http?: boolean;
  service: string[];
  idleTimeout: number;
  firstByteTimeout: number;
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
  const registry = new Registry().register('Arith', arith);
  const services = ['Arith'];
  return serverCommand<RpcServeFlags>(ctx, {
    name: 'serve',
    description: "serve the classic Arith service (and yours) over Go's net/rpc or JSON-RPC 2.0",
    defaultAddress: DEFAULT_RPC_ADDRESS,
    addressHelp: '":1234" for every interface, port 0 for any free port',
    options: (cmd) =>
      cmd
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
        .addOption(
          durationOption(
            '--idle-timeout <duration>',
            'close connections with no traffic and no call running for this long (0 = never; not with jsonrpc2 --http)',
            '5m',
          ),
        )
        .addOption(
          durationOption(
            '--first-byte-timeout <duration>',
            'close connections that send nothing this long after connecting; when full, the oldest such is closed for a newcomer (0 = never; not with jsonrpc2 --http)',
            '10s',
          ),
        ),
    flags: {
      maxConns: { help: 'connections served at once; more are reset', default: 10_000 },
      shutdownTimeout: {
        help: 'on Ctrl-C or SIGTERM, let calls in flight answer for this long',
        default: '5s',
      },
      quiet: 'do not log connections and calls',
    },
    help: `
Each connection is logged when it opens and closes, and each call with its
method, duration and error (--json: open, call, close events); -q turns that off.

Arith.Multiply({A, B}) returns A*B; Arith.Divide({A, B}) returns {Quo, Rem}, or
the error "divide by zero". Go's rpc.Dial, jsonrpc.Dial and rpc.DialHTTP clients
call it unchanged (over TLS: tls.Dial, then rpc.NewClient).

Examples:
  netkit rpc serve                          # gob on 127.0.0.1:1234, like rpc.ServeConn
  netkit rpc serve :1234 --http             # like rpc.HandleHTTP; see /debug/rpc
  netkit rpc serve --codec jsonrpc2 --http  # JSON-RPC 2.0 over HTTP POST
  netkit rpc serve :1234 --workers 4 --tls  # four processes, one ephemeral certificate`,
    prepare: async (flags) => {
      // Loaded by the --workers primary too, so a broken module is reported once and the line names its services.
      for (const file of flags.service) services.push(...(await loadServices(registry, file)));
    },
    describe: (flags, at) => {
      const how = `${flags.codec}${flags.http ? ' over HTTP' : ''}`;
      return {
        text: `listening ${at.address} (${how}; services ${services.join(', ')}${at.workers > 1 ? `; ${at.workers} workers` : ''})`,
        fields: {
          codec: flags.codec,
          http: Boolean(flags.http),
          services,
          ...(flags.http ? { url: at.url('http') } : {}),
        },
      };
    },
    start: async (listener, flags, cx) => {
      const onCall = flags.quiet ? undefined : (e: CallEvent) => logCall(cx.out, e, cx.tag);
      const common = {
        maxConnections: cx.setup.maxConns,
        ...(onCall ? { onCall } : {}),
      };
      // The TCP server under gob, json and jsonrpc2 over TCP, for connection logs; HTTP logs calls only, as http serve logs requests.
      let tcp: Server | undefined;
      let close: () => Promise<void>;
      if (flags.codec === 'jsonrpc2' && flags.http) {
        const server = await serveJsonRpc2Http(listener, registry, {
          ...common,
          shutdownTimeout: flags.shutdownTimeout,
        });
        close = () => server.close();
      } else if (flags.codec === 'jsonrpc2') {
        const server = await serveJsonRpc2Tcp(listener, registry, {
          ...common,
          idleTimeout: flags.idleTimeout,
          firstByteTimeout: flags.firstByteTimeout,
          shutdownTimeout: flags.shutdownTimeout,
        });
        close = () => server.close();
        tcp = server.server;
      } else {
        const server = await serveRpc(listener, registry, {
          ...common,
          codec: flags.codec,
          http: Boolean(flags.http),
          idleTimeout: flags.idleTimeout,
          firstByteTimeout: flags.firstByteTimeout,
          shutdownTimeout: flags.shutdownTimeout,
        });
        close = () => server.close();
        tcp = server.tcp;
      }
      if (tcp && !flags.quiet) logConnections(tcp, cx.out, cx.tag);
      return { close };
    },
  });
}

/** logCall prints one answered call; the method name and error text come from the peer, so they are escaped. */
function logCall(out: Output, e: CallEvent, tag: Readonly<Record<string, unknown>>): void {
  const ms = Math.round(e.durationMs * 1000) / 1000;
  const failed = e.error === undefined ? '' : ` ${out.paint('yellow', 'error')} ${safeText(e.error)}`;
  out.event(
    'call',
    {
      remote: e.remote,
      method: e.method,
      durationMs: ms,
      ...(e.error === undefined ? {} : { error: e.error }),
      ...(e.rpcCode === undefined ? {} : { rpcCode: e.rpcCode }),
      ...tag,
    },
    `call  ${e.remote ?? '-'} ${safeText(e.method)} ${ms < 1 ? `${ms.toFixed(2)}ms` : formatDuration(ms)}${failed}`,
  );
}
