import { serveHttp } from '../../http/index.js';
import { HTTP_ALPN } from '../../http/server/serve.js';
import { endpointText } from '../../tcp/index.js';
import type { Command } from '../commander.js';
import { bytesOption, durationOption, intOption } from '../options.js';
import type { CliContext } from '../program.js';
import { serverCommand } from '../server-command.js';
import type { ServerFlags } from '../server-flags.js';

interface HttpServeFlags extends ServerFlags {
  dir?: string;
  maxBody?: number;
  maxPending: number;
  idleTimeout: number;
  headerTimeout: number;
  requestTimeout: number;
}

/** NO_FIELDS stands for a text log line's event fields, which only --json prints. */
const NO_FIELDS: Record<string, unknown> = Object.freeze({});

/** DEFAULT_HTTP_ADDRESS is where `netkit http serve` listens when no address is given. */
export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:8080';

/** httpServeCommand defines `netkit http serve`: the hello route and a request inspector. */
export function httpServeCommand(ctx: CliContext): Command {
  return serverCommand<HttpServeFlags>(ctx, {
    name: 'serve',
    description: 'serve HTTP: "Hello, you\'ve requested: /path", and every request printed (an inspector)',
    defaultAddress: DEFAULT_HTTP_ADDRESS,
    addressHelp: '":8080" for every interface',
    alpn: HTTP_ALPN,
    options: (cmd) =>
      cmd
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
          durationOption(
            '--idle-timeout <duration>',
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
        ),
    flags: {
      maxConns: {
        help: 'connections served at once; when full, a silent one makes room, else new ones are reset',
        default: 1_000,
      },
      shutdownTimeout: {
        help: 'on Ctrl-C or SIGTERM, let in-flight requests finish for this long',
        default: '5s',
      },
      quiet: 'do not print each request',
    },
    help: `
Clients get "Hello, you've requested: /path" as text, the request as JSON with
Accept: application/json, or as an HTML page in a browser (everything escaped;
over TLS with the protocol, cipher and a verified client certificate's subject).
Shape the response with query parameters: ?status=418 ?delay=200ms
?header=Name:Value (repeatable) ?body=text. Shaped responses are sandboxed
(CSP sandbox, nosniff); active types (text/html, SVG, XML, JavaScript) and
headers such as Set-Cookie are refused with 400, so a link cannot make this
server run script in a browser.

Examples:
  netkit http serve
  netkit http serve :8080 --workers 2 -q   # every interface, two processes
  netkit http serve --dir ./public          # static files, with a listing for directories
  netkit http serve :8443 --cert cert.pem --key key.pem   # HTTPS; SIGHUP reloads the pair
  curl -s 127.0.0.1:8080/hook -H 'Accept: application/json' -d '{"a":1}'`,
    describe: (flags, at) => {
      const notes = [
        ...(flags.dir !== undefined ? [`files from ${flags.dir}`] : []),
        ...(at.workers > 1 ? [`${at.workers} workers`] : []),
      ];
      const url = at.url('http');
      return { text: `listening ${url}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`, fields: { url } };
    },
    start: async (listener, flags, cx) => {
      const { out, tag } = cx;
      const server = await serveHttp(listener, {
        ...(flags.dir !== undefined ? { dir: flags.dir } : {}),
        ...(flags.trust.length > 0 ? { trust: flags.trust } : {}),
        headersTimeout: flags.headerTimeout,
        requestTimeout: flags.requestTimeout,
        shutdownTimeout: flags.shutdownTimeout,
        ...(flags.maxBody !== undefined ? { maxBodyBytes: flags.maxBody } : {}),
        maxPendingRequests: flags.maxPending,
        maxConnections: cx.setup.maxConns,
        idleTimeout: flags.idleTimeout,
        onRefuse: flags.quiet
          ? undefined
          : (remote) =>
              out.event(
                'refuse',
                { remote: endpointText(remote), reason: 'max-connections', ...tag },
                `refused ${endpointText(remote)} (at --max-conns)`,
              ),
        // --json prints each request's record; the text log takes the text alone, which the
        // server builds without a record where it can (a logged greeting then costs a quarter less).
        onRequest: flags.quiet || !out.json ? undefined : (info) => out.event('request', { ...info, ...tag }),
        onRequestText:
          flags.quiet || out.json ? undefined : (text) => out.event('request', NO_FIELDS, `${text}\n`),
      });
      return { close: () => server.close() };
    },
  });
}
