import { Command } from 'commander';
import type { FrameFormat } from '../../framing/index.js';
import { echoHandler, type Handler, listen, replyHandler, serve } from '../../tcp/index.js';
import { EXIT } from '../exit-codes.js';
import {
  bytesOption,
  durationOption,
  frameOption,
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
import { logConnections } from '../serve-log.js';
import { isWorker, onWorkerShutdown, primaryFor } from '../workers.js';

interface ServeFlags extends ProxyFlags {
  network: string;
  echo?: boolean;
  reply: string;
  frame: FrameFormat;
  maxFrame?: number;
  maxConns: number;
  idle: number;
  firstByteTimeout: number;
  shutdownTimeout: number;
  workers: number;
  quiet?: boolean;
  json?: boolean;
}

/** DEFAULT_TCP_ADDRESS is where `netkit tcp serve` listens when no address is given. */
export const DEFAULT_TCP_ADDRESS = '127.0.0.1:8330';

/** tcpServeCommand defines `netkit tcp serve`: the classic line server, an echo server, or any framing. */
export function tcpServeCommand(ctx: CliContext): Command {
  return new Command('serve')
    .description('serve TCP: answer each line with "Hello, Client!" (or echo, or a reply you choose)')
    .argument(
      '[address]',
      'host:port to listen on (":8330" for every interface, port 0 for any free port)',
      DEFAULT_TCP_ADDRESS,
    )
    .addOption(networkOption('tcp'))
    .option('--echo', 'answer each message with itself')
    .option('--reply <text>', 'answer each message with this text', 'Hello, Client!')
    .addOption(frameOption('line'))
    .addOption(
      bytesOption(
        '--max-frame <bytes>',
        'largest message accepted (default 1MiB for lines, 16MiB otherwise)',
      ),
    )
    .addOption(
      intOption('--max-conns <n>', 'connections served at once; more are reset', 1, 1_000_000, 10_000),
    )
    .addOption(durationOption('--idle <duration>', 'close connections silent this long (0 = never)', '2m'))
    .addOption(
      durationOption(
        '--first-byte-timeout <duration>',
        'close connections that send nothing this long after connecting; at --max-conns the oldest such is closed to admit a new one (0 = never)',
        '10s',
      ),
    )
    .addOption(
      durationOption(
        '--shutdown-timeout <duration>',
        'on SIGINT, wait this long for connections to finish',
        '10s',
      ),
    )
    .addOption(intOption('--workers <n>', 'processes sharing the port, to use every core', 1, 256, 1))
    .option('-q, --quiet', 'do not log each connection')
    .addOption(proxyProtocolOption())
    .addOption(trustOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Examples:
  netkit tcp serve                          # the classic: every line gets "Hello, Client!"
  netkit tcp serve :9000 --echo --workers 2 # echo server on every interface, two processes
  netkit tcp serve 127.0.0.1:0 --frame len32 --echo --json`,
    )
    .action(async (address: string, flags: ServeFlags) => {
      ctx.exitCode = await runServe(ctx, address, flags);
    });
}

async function runServe(ctx: CliContext, address: string, flags: ServeFlags): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const mode = flags.echo ? 'echo' : `reply ${JSON.stringify(flags.reply)}`;
  const describe = (addr: string) =>
    `listening ${addr} (frame ${flags.frame}, ${mode}${flags.workers > 1 ? `, ${flags.workers} workers` : ''})`;
  const primary = primaryFor(ctx, out, { workers: flags.workers, graceMs: flags.shutdownTimeout, describe });
  if (primary) return primary;
  const codec = { frame: flags.frame, maxFrameBytes: flags.maxFrame };
  const handler: Handler = flags.echo ? echoHandler(codec) : replyHandler(flags.reply, codec);
  const proxy = proxyFromFlags(flags);
  const listener = await listen(address, { network: flags.network, ...(proxy ? { proxy } : {}) });
  const server = serve(listener, handler, {
    maxConnections: flags.maxConns,
    idleTimeout: flags.idle,
    firstByteTimeout: flags.firstByteTimeout,
    shutdownTimeout: flags.shutdownTimeout,
  });
  const worker = isWorker(ctx.io.env) ? ctx.io.env.NETKIT_WORKER : undefined;
  if (worker === undefined) {
    out.event(
      'listening',
      { address: listener.addr.address, pid: process.pid },
      describe(listener.addr.address),
    );
  } else {
    onWorkerShutdown(() => void server.shutdown());
  }
  if (!flags.quiet) logConnections(server, out, worker);
  const stop = () => void server.shutdown();
  if (ctx.io.signal.aborted) stop();
  ctx.io.signal.addEventListener('abort', stop, { once: true });
  await server.done;
  ctx.io.signal.removeEventListener('abort', stop);
  if (worker === undefined) out.note('stopped', { address: listener.addr.address }, 'stopped');
  return EXIT.OK;
}
