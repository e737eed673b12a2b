import { Command } from 'commander';
import { formatRequest, serveHttp } from '../../http/index.js';
import { EXIT } from '../exit-codes.js';
import {
  bytesOption,
  durationOption,
  intOption,
  jsonOption,
  networkOption,
  type ProxyFlags,
  proxyFromFlags,
  proxyProtocolOption,
  trustOption,
} from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { isWorker, primaryFor, untilStopped } from '../workers.js';

interface HttpServeFlags extends ProxyFlags {
  network: string;
  dir?: string;
  maxBody?: number;
  maxPending: number;
  maxConns: number;
  idle: number;
  headerTimeout: number;
  requestTimeout: number;
  shutdownTimeout: number;
  workers: number;
  quiet?: boolean;
  json?: boolean;
}

/** DEFAULT_HTTP_ADDRESS is where `netkit http serve` listens when no address is given. */
export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:8080';

/** httpServeCommand defines `netkit http serve`: the hello route and a request inspector. */
export function httpServeCommand(ctx: CliContext): Command {
  return new Command('serve')
    .description('serve HTTP: "Hello, you\'ve requested: /path", and every request printed (an inspector)')
    .argument('[address]', 'host:port to listen on (":8080" for every interface)', DEFAULT_HTTP_ADDRESS)
    .addOption(networkOption('tcp'))
    .option(
      '--dir <dir>',
      'serve the files under this directory (types, ranges, ETag/304) instead of the inspector',
    )
    .addOption(bytesOption('--max-body <bytes>', 'largest request body; larger gets 413 (default 1MiB)'))
    .addOption(
      intOption(
        '--max-pending <n>',
        'requests a connection may have unanswered (pipelining); beyond, it is not read until answers go out',
        1,
        10_000,
        32,
      ),
    )
    .addOption(
      intOption(
        '--max-conns <n>',
        'connections served at once; when full, a silent one makes room, else new ones are reset',
        1,
        1_000_000,
        1_000,
      ),
    )
    .addOption(
      durationOption(
        '--idle <duration>',
        'close a connection with no traffic either way for this long during a request (0 = never)',
        '1m',
      ),
    )
    .addOption(
      durationOption(
        '--header-timeout <duration>',
        'close connections whose headers are not in by then (slowloris)',
        '10s',
      ),
    )
    .addOption(
      durationOption(
        '--request-timeout <duration>',
        'close connections whose request is not in by then',
        '30s',
      ),
    )
    .addOption(
      durationOption(
        '--shutdown-timeout <duration>',
        'on Ctrl-C, let in-flight requests finish for this long',
        '5s',
      ),
    )
    .addOption(intOption('--workers <n>', 'processes sharing the port, to use every core', 1, 256, 1))
    .option('-q, --quiet', 'do not print each request')
    .addOption(proxyProtocolOption())
    .addOption(trustOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Clients get "Hello, you've requested: /path" as text, the request as JSON with
Accept: application/json, or as an HTML page in a browser (everything escaped).
Shape the response with query parameters: ?status=418 ?delay=200ms
?header=Name:Value (repeatable) ?body=text. Shaped responses are sandboxed
(CSP sandbox, nosniff); active types (text/html, SVG, XML, JavaScript) and
headers such as Set-Cookie are refused with 400, so a link cannot make this
server run script in a browser.

Examples:
  netkit http serve
  netkit http serve :8080 --workers 2 -q   # every interface, two processes
  netkit http serve --dir ./public          # static files, with a listing for directories
  curl -s 127.0.0.1:8080/hook -H 'Accept: application/json' -d '{"a":1}'`,
    )
    .action(async (address: string, flags: HttpServeFlags) => {
      ctx.exitCode = await runServe(ctx, address, flags);
    });
}

async function runServe(ctx: CliContext, address: string, flags: HttpServeFlags): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const notes = [
    ...(flags.dir !== undefined ? [`files from ${flags.dir}`] : []),
    ...(flags.workers > 1 ? [`${flags.workers} workers`] : []),
  ];
  const describe = (addr: string) =>
    `listening http://${addr}/${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
  const primary = primaryFor(ctx, out, { workers: flags.workers, graceMs: flags.shutdownTimeout, describe });
  if (primary) return primary;
  const worker = isWorker(ctx.io.env) ? Number(ctx.io.env.NETKIT_WORKER) : undefined;
  const tag = worker === undefined ? {} : { worker };
  const proxy = proxyFromFlags(flags);
  const server = await serveHttp(address, {
    network: flags.network,
    ...(flags.dir !== undefined ? { dir: flags.dir } : {}),
    ...(proxy ? { proxy } : {}),
    ...(flags.trust.length > 0 ? { trust: flags.trust } : {}),
    headersTimeout: flags.headerTimeout,
    requestTimeout: flags.requestTimeout,
    closeTimeout: flags.shutdownTimeout,
    ...(flags.maxBody !== undefined ? { maxBodyBytes: flags.maxBody } : {}),
    maxPendingRequests: flags.maxPending,
    maxConnections: flags.maxConns,
    idleTimeout: flags.idle,
    onRefuse: flags.quiet
      ? undefined
      : (remote) =>
          out.event(
            'refuse',
            { remote: remote?.address, reason: 'max-connections', ...tag },
            `refused ${remote?.address} (at --max-conns)`,
          ),
    onRequest: flags.quiet
      ? undefined
      : (info) => out.event('request', { ...info, ...tag }, `${formatRequest(info)}\n`),
  });
  if (worker === undefined) {
    out.event('listening', { address: server.address, pid: process.pid }, describe(server.address));
  }
  await untilStopped(ctx.io.signal, worker !== undefined);
  await server.close();
  if (worker === undefined) out.note('stopped', { address: server.address }, 'stopped');
  return EXIT.OK;
}
