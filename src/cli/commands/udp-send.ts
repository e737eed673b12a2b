import { isNetkitError } from '../../errors.js';
import { hexDump, safeText, unescapeText } from '../../internal/text.js';
import { dial } from '../../udp/index.js';
import { Command } from '../commander.js';
import { EXIT } from '../exit-codes.js';
import { durationOption, jsonOption, networkOption } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';

interface UdpSendFlags {
  network: string;
  wait: number;
  hex?: boolean;
  json?: boolean;
}

/** udpSendCommand defines `netkit udp send`: send datagrams and print each reply. */
export function udpSendCommand(ctx: CliContext): Command {
  return new Command('send')
    .description('send one datagram per message and print each reply, or say that none came')
    .argument('<address>', 'host:port to send to')
    .argument(
      '[message...]',
      'messages, one datagram each (\\r \\n \\t \\xHH escapes); without any, each line of stdin is one, sent as it is (newline included, as ncat -u does)',
    )
    .addOption(networkOption('udp'))
    .addOption(durationOption('--wait <duration>', 'how long to wait for each reply', '2s'))
    .option('--hex', 'print replies as a hex dump')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Exit codes: 0 every message was answered, 4 a reply did not come within --wait,
5 the port is closed (ICMP port unreachable), 6 bad address.

Examples:
  netkit udp send 127.0.0.1:8330 hello
  printf 'one\\ntwo\\n' | netkit udp send 127.0.0.1:8330
  netkit udp send 127.0.0.1:53 '\\x00\\x01' --hex --wait 500ms`,
    )
    .action(async (address: string, messages: string[], flags: UdpSendFlags) => {
      ctx.exitCode = await runUdpSend(ctx, address, messages, flags);
    });
}

async function runUdpSend(
  ctx: CliContext,
  address: string,
  messages: string[],
  flags: UdpSendFlags,
): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const sock = await dial(address, { network: flags.network, signal: ctx.io.signal });
  let code: number = EXIT.OK;
  const datagrams: AsyncIterable<Buffer> | Iterable<Buffer> =
    messages.length > 0 ? messages.map((m) => unescapeText(m)) : stdinLines(ctx.io.stdin);
  try {
    for await (const data of datagrams) {
      await sock.send(data);
      try {
        const reply = await sock.receive({ timeout: flags.wait, signal: ctx.io.signal });
        const body = flags.hex ? { hex: reply.data.toString('hex') } : { text: reply.data.toString('utf8') };
        const human = flags.hex ? hexDump(reply.data) : safeText(reply.data, true);
        out.event('reply', { from: reply.from.address, bytes: reply.data.length, ...body }, human);
      } catch (err) {
        if (isNetkitError(err, 'NETKIT_TIMEOUT')) {
          out.note('timeout', { waitMs: flags.wait, sent: data.length }, `no reply within ${flags.wait} ms`);
          code = EXIT.TIMEOUT;
        } else if (isNetkitError(err, 'NETKIT_CONNECTION_RESET')) {
          out.note('unreachable', { address }, `${address}: port unreachable (nothing listens there)`);
          return EXIT.RESET;
        } else {
          throw err;
        }
      }
    }
  } finally {
    await sock.close();
  }
  return code;
}

/** stdinLines yields each line of stdin with its newline, and a last line without one. */
async function* stdinLines(stdin: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of stdin) {
    rest = Buffer.concat([rest, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    for (let nl = rest.indexOf(10); nl >= 0; nl = rest.indexOf(10)) {
      yield rest.subarray(0, nl + 1);
      rest = rest.subarray(nl + 1);
    }
  }
  if (rest.length > 0) yield rest;
}
