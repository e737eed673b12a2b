import type { FrameFormat } from '../../framing/index.js';
import { echoHandler, type Handler, replyHandler, serve } from '../../tcp/index.js';
import type { Command } from '../commander.js';
import { bytesOption, durationOption, frameOption } from '../options.js';
import type { CliContext } from '../program.js';
import { logConnections } from '../serve-log.js';
import { serverCommand } from '../server-command.js';
import type { ServerFlags } from '../server-flags.js';

interface ServeFlags extends ServerFlags {
  echo?: boolean;
  reply: string;
  frame: FrameFormat;
  maxFrame?: number;
  idleTimeout: number;
  firstByteTimeout: number;
}

/** DEFAULT_TCP_ADDRESS is where `netkit tcp serve` listens when no address is given. */
export const DEFAULT_TCP_ADDRESS = '127.0.0.1:8330';

/** tcpServeCommand defines `netkit tcp serve`: the classic line server, an echo server, or any framing. */
export function tcpServeCommand(ctx: CliContext): Command {
  return serverCommand<ServeFlags>(ctx, {
    name: 'serve',
    description: 'serve TCP: answer each line with "Hello, Client!" (or echo, or a reply you choose)',
    defaultAddress: DEFAULT_TCP_ADDRESS,
    addressHelp: '":8330" for every interface, port 0 for any free port',
    options: (cmd) =>
      cmd
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
          durationOption('--idle-timeout <duration>', 'close connections silent this long (0 = never)', '2m'),
        )
        .addOption(
          durationOption(
            '--first-byte-timeout <duration>',
            'close connections that send nothing this long after connecting; at --max-conns the oldest such is closed to admit a new one (0 = never)',
            '10s',
          ),
        ),
    flags: {
      maxConns: { help: 'connections served at once; more are reset', default: 10_000 },
      shutdownTimeout: {
        help: 'on Ctrl-C or SIGTERM, wait this long for connections to finish',
        default: '10s',
      },
      quiet: 'do not log each connection',
    },
    help: `
Examples:
  netkit tcp serve                          # the classic: every line gets "Hello, Client!"
  netkit tcp serve :9000 --echo --workers 2 # echo server on every interface, two processes
  netkit tcp serve 127.0.0.1:0 --frame len32 --echo --json
  netkit tcp serve :8443 --echo --tls       # then: netkit tcp connect HOST:8443 --pin sha256:<hex>`,
    describe: (flags, at) => {
      const mode = flags.echo ? 'echo' : `reply ${JSON.stringify(flags.reply)}`;
      const workers = at.workers > 1 ? `, ${at.workers} workers` : '';
      return { text: `listening ${at.address} (frame ${flags.frame}, ${mode}${workers})` };
    },
    start: async (listener, flags, cx) => {
      const codec = { frame: flags.frame, maxFrameBytes: flags.maxFrame };
      const handler: Handler = flags.echo ? echoHandler(codec) : replyHandler(flags.reply, codec);
      const server = serve(listener, handler, {
        maxConnections: cx.setup.maxConns,
        idleTimeout: flags.idleTimeout,
        firstByteTimeout: flags.firstByteTimeout,
        shutdownTimeout: flags.shutdownTimeout,
      });
      if (!flags.quiet) logConnections(server, cx.out, cx.tag);
      return { close: () => server.close() };
    },
  });
}
