import { Command } from 'commander';
import { InvalidArgumentError, NetkitError } from '../../errors.js';
import { type OverwritePolicy, serveFiles } from '../../transfer/index.js';
import { EXIT, exitCodeFor, stoppedExit } from '../exit-codes.js';
import { bytesOption, durationOption, intOption, jsonOption, networkOption } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { TransferView } from '../transfer-view.js';

interface RecvFlags {
  dir: string;
  once?: boolean;
  overwrite?: boolean;
  skipExisting?: boolean;
  code?: string;
  compat?: boolean;
  maxSize?: number;
  idleTimeout: number;
  handshakeTimeout: number;
  maxConnections: number;
  fsync?: boolean;
  network: string;
  quiet?: boolean;
  json?: boolean;
}

/** DEFAULT_RECV_ADDRESS is where `netkit recv` listens when no address is given. */
export const DEFAULT_RECV_ADDRESS = '127.0.0.1:8340';

/** recvCommand defines `netkit recv`: receive files from `netkit send` (or classic senders with --compat). */
export function recvCommand(ctx: CliContext): Command {
  return new Command('recv')
    .description('receive files and directories from `netkit send`, verified and resumable')
    .argument('[address]', 'host:port to listen on (":8340" for every interface)', DEFAULT_RECV_ADDRESS)
    .option('--dir <dir>', 'where files land (created if missing)', '.')
    .option('--once', 'take one transfer, then exit (0 if it succeeded)')
    .option(
      '--overwrite',
      'replace existing files (default: refuse the transfer, but skip a file already received whole)',
    )
    .option('--skip-existing', 'keep existing files and skip them')
    .option('--code <words>', 'a shared secret the sender must know (checked before any byte is written)')
    .option('--compat', 'the classic protocol: name, "ok", bytes until close (one file per connection)')
    .addOption(bytesOption('--max-size <bytes>', 'refuse files larger than this (e.g. 10GiB)'))
    .addOption(
      durationOption(
        '--idle-timeout <duration>',
        'drop a sender silent this long (its partial file stays)',
        '30s',
      ),
    )
    .addOption(
      durationOption(
        '--handshake-timeout <duration>',
        'drop a connection that has not said hello (and, with --code, proved it) by then',
        '5s',
      ),
    )
    .addOption(
      intOption(
        '--max-connections <n>',
        'transfers served at once; one more sender is told the receiver is busy',
        1,
        10_000,
        16,
      ),
    )
    .option('--fsync', 'flush each file to disk before it gets its name (survives power loss)')
    .addOption(networkOption('tcp'))
    .option('-q, --quiet', "print only each transfer's summary")
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Files arrive as NAME.part (with NAME.part.meta) and get their name only
after their SHA-256 matched; an interrupted transfer resumes from the
verified part when the same file is sent again. By default a file that
exists refuses the whole transfer, unless it is the file announced,
already received whole (a regular file of the same size and modification
time; --compat senders announce neither): that one is skipped, so sending
an interrupted directory again completes it. No file is ever replaced
without --overwrite. Paths that would leave
--dir (.., absolute, drive letters, backslashes, control characters,
symlinks in the way) are refused before anything is written.

Exit status with --once: 0 when the transfer succeeded, else as for errors.
Stopped (Ctrl-C) during a transfer, or with --once before one ended: 130;
the sender is told, and what arrived stays as a part for a resume.

Examples:
  netkit recv --dir incoming                   # serve on 127.0.0.1:8340
  netkit recv :8340 --dir /srv/drop --code "purple tiger"
  netkit recv 127.0.0.1:0 --once --json        # any port; print it, take one transfer
  netkit recv :8340 --compat --dir .           # for the classic Go sender`,
    )
    .action(async (address: string, flags: RecvFlags) => {
      ctx.exitCode = await runRecv(ctx, address, flags);
    });
}

async function runRecv(ctx: CliContext, address: string, flags: RecvFlags): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  if (flags.overwrite && flags.skipExisting) {
    throw new InvalidArgumentError('--overwrite', 'cannot be combined with --skip-existing');
  }
  const overwrite: OverwritePolicy = flags.overwrite ? 'overwrite' : flags.skipExisting ? 'skip' : 'refuse';
  // A view per sender: concurrent senders each get their own bars and summary.
  const views = new Map<string, TransferView>();
  const viewFor = (peer: string) => {
    const v = views.get(peer) ?? new TransferView(out, ctx.io, { quiet: flags.quiet });
    views.set(peer, v);
    return v;
  };
  const stop = new AbortController();
  // Transfers this receiver cut short by stopping, and transfers that ended by themselves.
  let cut = 0;
  let ended = 0;
  const receiver = await serveFiles(address, {
    dir: flags.dir,
    overwrite,
    code: flags.code,
    compat: flags.compat,
    maxFileBytes: flags.maxSize,
    idleTimeout: flags.idleTimeout,
    handshakeTimeout: flags.handshakeTimeout,
    maxConnections: flags.maxConnections,
    fsync: flags.fsync,
    network: flags.network,
    signal: AbortSignal.any([ctx.io.signal, stop.signal]),
    onEvent: (e, peer) => viewFor(peer).onEvent(e),
    onTransfer: (s) => {
      viewFor(s.peer).summary(s);
      views.delete(s.peer);
      if (s.error?.code === 'NETKIT_TRANSFER_STOPPED') cut++;
      else ended++;
    },
  });
  out.event(
    'listening',
    { address: receiver.addr.address, dir: receiver.dir, pid: process.pid },
    `listening ${receiver.addr.address} → ${receiver.dir}${flags.compat ? ' (classic protocol)' : ''}${flags.code ? ' (code required)' : ''}`,
  );
  let code: number = EXIT.OK;
  for await (const s of receiver) {
    if (!flags.once) continue;
    if (!s.ok && s.error) code = exitCodeFor(new NetkitError(s.error.code as never, s.error.message));
    stop.abort();
    break;
  }
  await receiver.close();
  if (ctx.io.signal.aborted && (cut > 0 || (flags.once && ended === 0))) {
    out.note(
      'interrupted',
      { stopped: cut },
      cut > 0
        ? `interrupted: ${cut === 1 ? 'a transfer was' : `${cut} transfers were`} stopped; partial files stay as .part, and sending them again resumes`
        : 'interrupted before a transfer ended',
    );
    return stoppedExit(ctx.io.signal);
  }
  return code;
}
