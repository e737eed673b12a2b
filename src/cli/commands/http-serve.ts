import { Command } from 'commander';
import { formatRequest, serveHttp } from '../../http/index.js';
import { EXIT } from '../exit-codes.js';
import { bytesOption, durationOption, jsonOption, networkOption } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';

interface HttpServeFlags {
  network: string;
  maxBody?: number;
  headerTimeout: number;
  requestTimeout: number;
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
    .addOption(bytesOption('--max-body <bytes>', 'largest request body; larger gets 413 (default 1MiB)'))
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
    .option('-q, --quiet', 'do not print each request')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Clients get "Hello, you've requested: /path" as text, the request as JSON with
Accept: application/json, or as an HTML page in a browser (everything escaped).
Shape the response with query parameters: ?status=418 ?delay=200ms
?header=Name:Value (repeatable) ?body=text.

Examples:
  netkit http serve
  curl -s 127.0.0.1:8080/hook -H 'Accept: application/json' -d '{"a":1}'`,
    )
    .action(async (address: string, flags: HttpServeFlags) => {
      const out = new Output(ctx.io, Boolean(flags.json));
      const server = await serveHttp(address, {
        network: flags.network,
        headersTimeout: flags.headerTimeout,
        requestTimeout: flags.requestTimeout,
        ...(flags.maxBody !== undefined ? { maxBodyBytes: flags.maxBody } : {}),
        onRequest: flags.quiet
          ? undefined
          : (info) => out.event('request', { ...info }, `${formatRequest(info)}\n`),
      });
      out.event(
        'listening',
        { address: server.address, pid: process.pid },
        `listening http://${server.address}/`,
      );
      await new Promise<void>((resolve) => {
        if (ctx.io.signal.aborted) resolve();
        ctx.io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await server.close();
      out.note('stopped', { address: server.address }, 'stopped');
      ctx.exitCode = EXIT.OK;
    });
}
