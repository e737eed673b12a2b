import { isNetkitError } from '../../errors.js';
import { safeText } from '../../internal/text.js';
import { bind } from '../../udp/index.js';
import { Argument, Command } from '../commander.js';
import { EXIT } from '../exit-codes.js';
import { jsonOption, networkOption, wrap } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { parseListenAddress } from '../server-flags.js';

interface UdpServeFlags {
  network: string;
  echo?: boolean;
  reply: string;
  quiet?: boolean;
  json?: boolean;
}

/** DEFAULT_UDP_ADDRESS is where `netkit udp serve` listens when no address is given. */
export const DEFAULT_UDP_ADDRESS = '127.0.0.1:8330';

const PREVIEW_BYTES = 60;

/** udpServeCommand defines `netkit udp serve`: log each datagram and answer it. */
export function udpServeCommand(ctx: CliContext): Command {
  return new Command('serve')
    .description('serve UDP: log each datagram (peer, size, preview) and answer it')
    .addArgument(
      new Argument(
        '[address]',
        'host:port to listen on (":8330" for every interface; a bare port means :port)',
      )
        .default(DEFAULT_UDP_ADDRESS)
        .argParser(wrap(parseListenAddress)),
    )
    .addOption(networkOption('udp'))
    .option('--echo', 'answer each datagram with itself')
    .option(
      '--reply <text>',
      "answer each datagram with this text (cut to the datagram's size)",
      'Hello, Client!',
    )
    .option('-q, --quiet', 'do not log each datagram')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
A reply is never larger than the datagram it answers, so the server cannot be
used to amplify traffic toward a forged source address.

Examples:
  netkit udp serve                    # answer every datagram with "Hello, Client!"
  netkit udp serve :9000 --echo --json`,
    )
    .action(async (address: string, flags: UdpServeFlags) => {
      ctx.exitCode = await runUdpServe(ctx, address, flags);
    });
}

async function runUdpServe(ctx: CliContext, address: string, flags: UdpServeFlags): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const sock = await bind(address, { network: flags.network, signal: ctx.io.signal });
  const mode = flags.echo ? 'echo' : `reply ${JSON.stringify(flags.reply)}`;
  out.event(
    'listening',
    { address: sock.localAddr.address, pid: process.pid },
    `listening ${sock.localAddr.address} (udp, ${mode})`,
  );
  const reply = Buffer.from(flags.reply);
  const quiet = Boolean(flags.quiet);
  try {
    // serve() calls back from the socket's 'message' event, and reply() sends without a
    // promise: nothing per datagram beyond what a node:dgram echo server does.
    await sock.serve((data, from) => {
      if (!quiet) {
        const preview = safeText(data.subarray(0, PREVIEW_BYTES));
        out.event(
          'datagram',
          { from: from.address, bytes: data.length, preview },
          `${from.address.padEnd(22)} ${String(data.length).padStart(5)}B  ${preview}${data.length > PREVIEW_BYTES ? '…' : ''}`,
        );
      }
      // Never answer with more bytes than arrived: no amplification.
      const answer = flags.echo ? data : reply.subarray(0, Math.min(reply.length, data.length));
      try {
        sock.reply(answer, from);
      } catch (err) {
        // One unanswerable datagram does not stop the server; a socket error (from the kernel) does.
        if (!quiet) out.error(err);
      }
    });
  } catch (err) {
    if (!(isNetkitError(err, 'NETKIT_SOCKET_CLOSED') && ctx.io.signal.aborted)) throw err;
  } finally {
    await sock.close();
  }
  out.note('stopped', { address: sock.localAddr.address, dropped: sock.dropped }, 'stopped');
  return EXIT.OK;
}
