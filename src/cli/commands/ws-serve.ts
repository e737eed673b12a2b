import { Command, Option } from 'commander';
import { safeText } from '../../internal/text.js';
import { ClusterBus, isBusMessage } from '../../ws/bus/cluster.js';
import type { Bus } from '../../ws/bus/types.js';
import type { WsServerEvent } from '../../ws/server/options.js';
import { serveWs } from '../../ws/server/serve.js';
import { EXIT } from '../exit-codes.js';
import {
  bytesOption,
  collect,
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

interface WsServeFlags extends ProxyFlags {
  network: string;
  path?: string;
  mode: 'echo' | 'broadcast';
  page?: boolean;
  origin: string[];
  maxPayload?: number;
  maxQueue?: number;
  heartbeat: number;
  deflate?: boolean;
  subprotocol: string[];
  maxConnections: number;
  redis?: string;
  workers: number;
  shutdownTimeout: number;
  quiet?: boolean;
  json?: boolean;
}

/** wsServeCommand defines `netkit ws serve`: echo or broadcast rooms, with an optional browser page. */
export function wsServeCommand(ctx: CliContext): Command {
  return new Command('serve')
    .description(
      'serve WebSocket: echo every message back, or broadcast it to a room; --page adds a browser client',
    )
    .argument('[address]', 'host:port to listen on (":8080" for every interface)', '127.0.0.1:8080')
    .addOption(networkOption('tcp'))
    .option('--path <path>', 'where clients connect (default /echo, or /chat in broadcast mode)')
    .addOption(
      new Option('--mode <mode>', 'echo each message, or broadcast it to the room')
        .choices(['echo', 'broadcast'])
        .default('echo'),
    )
    .option('--page', 'serve a browser client at / (works with any WebSocket server URL)')
    .option(
      '--origin <origin>',
      "allow only this Origin, e.g. https://app.example (repeatable; the server's own is always allowed; others get 403)",
      collect,
      [],
    )
    .addOption(
      bytesOption(
        '--max-payload <bytes>',
        'largest message, after decompression; larger closes with 1009 (default 1MiB)',
      ),
    )
    .addOption(
      bytesOption(
        '--max-queue <bytes>',
        'data sent to a client and not yet read by it, kernel buffers included, before it is dropped with 1008 (default 2MiB, or twice --max-payload)',
      ),
    )
    .addOption(
      durationOption(
        '--heartbeat <duration>',
        'ping every client this often; drop one that misses a pong (0 = off)',
        '30s',
      ),
    )
    .option('--deflate', 'accept permessage-deflate compression')
    .option(
      '--subprotocol <name>',
      'a subprotocol this server speaks (repeatable, in order of preference)',
      collect,
      [],
    )
    .addOption(
      intOption('--max-connections <n>', 'open connections before upgrades get 503', 1, 1_000_000, 10_000),
    )
    .option(
      '--redis <url>',
      'share broadcast rooms with other instances through Redis pub/sub (redis://host:port)',
    )
    .addOption(
      intOption('--workers <n>', 'processes sharing the port (rooms are shared between them)', 1, 256, 1),
    )
    .addOption(
      durationOption('--shutdown-timeout <duration>', 'on Ctrl-C, wait this long for clients to close', '5s'),
    )
    .option('-q, --quiet', 'do not print connections and messages')
    .addOption(proxyProtocolOption())
    .addOption(trustOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
In broadcast mode the room is the rest of the path (/chat/lobby) or ?room=lobby;
every client of a room, the sender included, gets each message.

Examples:
  netkit ws serve                                   # echo at ws://127.0.0.1:8080/echo
  netkit ws serve --mode broadcast --page           # chat rooms, and a page at http://127.0.0.1:8080/
  netkit ws serve :8080 --mode broadcast --workers 2 --redis redis://127.0.0.1:6379
  netkit ws connect ws://127.0.0.1:8080/echo`,
    )
    .action(async (address: string, flags: WsServeFlags) => {
      ctx.exitCode = await runServe(ctx, address, flags);
    });
}

async function runServe(ctx: CliContext, address: string, flags: WsServeFlags): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const notes = [
    flags.mode,
    ...(flags.redis !== undefined ? ['rooms shared through Redis'] : []),
    ...(flags.workers > 1 ? [`${flags.workers} workers`] : []),
  ];
  const path = flags.path ?? (flags.mode === 'broadcast' ? '/chat' : '/echo');
  const describe = (addr: string) =>
    `listening ws://${addr}${path} (${notes.join(', ')})${flags.page ? `; page at http://${addr}/` : ''}`;
  const primary = primaryFor(ctx, out, {
    workers: flags.workers,
    graceMs: flags.shutdownTimeout,
    describe,
    fields: (addr) => ({ url: `ws://${addr}${path}`, ...(flags.page ? { page: `http://${addr}/` } : {}) }),
    ...(flags.redis === undefined && flags.mode === 'broadcast' ? { relay: isBusMessage } : {}),
  });
  if (primary) return primary;
  const worker = isWorker(ctx.io.env) ? Number(ctx.io.env.NETKIT_WORKER) : undefined;
  const tag: Record<string, number> = worker === undefined ? {} : { worker };
  let bus: Bus | undefined;
  if (flags.redis !== undefined) {
    // Loaded only when asked for: most servers never talk to Redis.
    const { RedisBus } = await import('../../ws/bus/redis.js');
    const redis = new RedisBus(flags.redis);
    redis.onStatus((s) =>
      out.note(
        'redis',
        { state: s.state, reason: s.reason, ...tag },
        `redis ${s.state}${s.reason ? `: ${safeText(s.reason)}` : ''}`,
      ),
    );
    bus = redis;
  } else if (worker !== undefined) bus = new ClusterBus();
  const proxy = proxyFromFlags(flags);
  const server = await serveWs(address, {
    network: flags.network,
    path,
    mode: flags.mode,
    page: Boolean(flags.page),
    ...(flags.origin.length > 0 ? { origins: flags.origin } : {}),
    ...(flags.maxPayload !== undefined ? { maxPayload: flags.maxPayload } : {}),
    ...(flags.maxQueue !== undefined ? { maxQueueBytes: flags.maxQueue } : {}),
    heartbeat: flags.heartbeat,
    perMessageDeflate: Boolean(flags.deflate),
    protocols: flags.subprotocol,
    maxConnections: flags.maxConnections,
    ...(proxy ? { proxy } : {}),
    closeTimeout: flags.shutdownTimeout,
    ...(bus ? { bus } : {}),
    ...(flags.quiet ? {} : { onEvent: (e: WsServerEvent) => report(out, e, tag) }),
  });
  if (worker === undefined) {
    out.event(
      'listening',
      { address: server.address, url: server.url, page: server.pageUrl, pid: process.pid },
      describe(server.address),
    );
  }
  await untilStopped(ctx.io.signal, worker !== undefined);
  await server.close();
  if (worker === undefined) out.note('stopped', { address: server.address }, 'stopped');
  return EXIT.OK;
}

/** report prints one server event: a line for people, an object for --json. */
function report(out: Output, e: WsServerEvent, tag: Record<string, number>): void {
  switch (e.type) {
    case 'open':
      out.event(
        'open',
        { id: e.id, remote: e.remote, path: e.path, room: e.room, protocol: e.protocol, ...tag },
        `${out.paint('green', '+')} #${e.id} ${e.remote} ${safeText(e.path)}${e.room ? ` (room ${safeText(e.room)})` : ''}`,
      );
      return;
    case 'close':
      out.event(
        'close',
        { id: e.id, remote: e.remote, code: e.code, reason: e.reason, messages: e.messagesIn, ...tag },
        `${out.paint('dim', '-')} #${e.id} ${e.remote} closed ${e.code}${e.reason ? ` ${safeText(e.reason)}` : ''} after ${e.messagesIn} messages`,
      );
      return;
    case 'message': {
      const body = e.binary ? { base64: e.data.toString('base64') } : { data: e.data.toString('utf8') };
      const human = e.binary ? `<binary ${e.data.length} bytes>` : safeText(e.data);
      out.event(
        'message',
        { id: e.id, room: e.room, type: e.binary ? 'binary' : 'text', bytes: e.data.length, ...body, ...tag },
        `#${e.id} ${human}`,
      );
      return;
    }
    case 'rejected':
      out.note(
        'rejected',
        { remote: e.remote, path: e.path, status: e.status, reason: e.reason, ...tag },
        `refused ${e.remote} ${safeText(e.path)}: ${e.status} ${e.reason}`,
      );
      return;
  }
}
