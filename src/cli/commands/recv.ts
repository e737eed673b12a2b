import path from 'node:path';
import { InvalidArgumentError, NetkitError } from '../../errors.js';
import { type OverwritePolicy, receiveFiles, roomOf, serveFiles } from '../../transfer/index.js';
import type { Command } from '../commander.js';
import { EXIT, exitCodeFor, stoppedExit } from '../exit-codes.js';
import { bytesOption, durationOption } from '../options.js';
import type { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { serverCommand } from '../server-command.js';
import type { ServerFlags } from '../server-flags.js';
import { TransferView } from '../transfer-view.js';

interface RecvFlags extends ServerFlags {
  dir: string;
  once?: boolean;
  overwrite?: boolean;
  skipExisting?: boolean;
  code?: string;
  plain?: boolean;
  via?: string;
  compat?: boolean;
  maxSize?: number;
  idleTimeout: number;
  fsync?: boolean;
}

/** DEFAULT_RECV_ADDRESS is where `netkit recv` listens when no address is given. */
export const DEFAULT_RECV_ADDRESS = '127.0.0.1:8340';

/** recvCommand defines `netkit recv`: receive files from `netkit send` (or classic senders with --compat). */
export function recvCommand(ctx: CliContext): Command {
  // The directory as the receiver resolved it (its real path), and the code senders need, once it listens.
  let dir: string | undefined;
  let code: string | undefined;
  return serverCommand<RecvFlags>(ctx, {
    name: 'recv',
    description: 'receive files and directories from `netkit send`, verified and resumable',
    defaultAddress: DEFAULT_RECV_ADDRESS,
    addressHelp: '":8340" for every interface',
    options: (cmd) =>
      cmd
        .option('--dir <dir>', 'where files land (created if missing)', '.')
        .option('--once', 'take one transfer, then exit (0 if it succeeded)')
        .option(
          '--overwrite',
          'replace existing files (default: refuse the transfer, but skip a file already received whole)',
        )
        .option('--skip-existing', 'keep existing files and skip them')
        .option(
          '--code <words>',
          'the code senders must pass; transfers are encrypted with a key derived from it (default: a generated code, printed)',
        )
        .option(
          '--via <address>',
          'dial out to a rendezvous (netkit relay --rendezvous) and take one transfer from the sender of the code (--code, or the argument)',
        )
        .option(
          '--plain',
          'the cleartext protocol 1 (no encryption; SHA-256 per file; --code optional, it only authenticates)',
        )
        .option('--compat', 'the classic protocol: name, "ok", bytes until close (one file per connection)')
        .addOption(bytesOption('--max-size <bytes>', 'refuse files larger than this (e.g. 10GiB)'))
        .addOption(
          durationOption(
            '--idle-timeout <duration>',
            'drop a sender silent this long (its partial file stays)',
            '30s',
          ),
        )
        .option('--fsync', 'flush each file to disk before it gets its name (survives power loss)'),
    flags: {
      maxConns: {
        help: 'transfers served at once; one more sender is told the receiver is busy',
        default: 16,
        max: 10_000,
        oldName: true,
      },
      shutdownTimeout: {
        help: 'on Ctrl-C or SIGTERM, senders are told the receiver stops; those still connected after this are cut',
        default: '2s',
      },
      quiet: "print only each transfer's summary",
      handshakeTimeout:
        'drop a connection that has not finished its TLS handshake, then said hello (and, with --code, proved it) by then',
    },
    help: `
Transfers are end-to-end encrypted (AES-256-GCM) under a key both sides
derive from the code with SPAKE2: the code never crosses the network, a
recording of the traffic gives no way to test guesses, and each connection
gets one guess; after wrong codes the receiver answers more slowly and says
so. Without --code a code is generated and printed. --plain and --compat are
cleartext.

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
  netkit recv --dir incoming                   # serve on 127.0.0.1:8340, print a code
  netkit recv :8340 --dir /srv/drop --code 42-purple-tiger-lamp
  netkit recv --via rv.example:9009 7-crossword-puzzle-apple --dir in   # through a rendezvous
  netkit recv 127.0.0.1:0 --once --json        # any port; print it, take one transfer
  netkit recv :8340 --compat --dir .           # for the classic Go sender`,
    prepare: (flags) => {
      if (flags.overwrite && flags.skipExisting) {
        throw new InvalidArgumentError('--overwrite', 'cannot be combined with --skip-existing');
      }
      if (flags.once && flags.workers > 1) {
        throw new InvalidArgumentError('--once', 'takes one transfer in one process: drop --workers');
      }
      if (flags.plain && flags.compat)
        throw new InvalidArgumentError('--plain', 'cannot be combined with --compat');
      if (flags.code === undefined && !flags.plain && !flags.compat && flags.workers > 1) {
        throw new InvalidArgumentError(
          '--workers',
          'needs --code: each worker would generate a code of its own',
        );
      }
    },
    instead: (flags, typed, out) => (flags.via === undefined ? undefined : recvVia(ctx, flags, typed, out)),
    describe: (flags, at) => ({
      text: `listening ${at.address} → ${dir ?? path.resolve(flags.dir)}${flags.compat ? ' (classic protocol)' : flags.plain ? ` (cleartext${flags.code ? ', code required' : ''})` : ` (encrypted; code ${code ?? flags.code})`}${at.workers > 1 ? ` (${at.workers} workers)` : ''}`,
      fields: {
        dir: dir ?? path.resolve(flags.dir),
        ...(!flags.plain && !flags.compat ? { code: code ?? flags.code } : {}),
      },
    }),
    start: async (listener, flags, cx) => {
      const { out } = cx;
      const overwrite: OverwritePolicy = flags.overwrite
        ? 'overwrite'
        : flags.skipExisting
          ? 'skip'
          : 'refuse';
      // A view per sender: concurrent senders each get their own bars and summary.
      const views = new Map<string, TransferView>();
      const viewFor = (peer: string) => {
        const v = views.get(peer) ?? new TransferView(out, cx.io, { quiet: flags.quiet });
        views.set(peer, v);
        return v;
      };
      // Transfers this receiver cut short by stopping, and transfers that ended by themselves.
      let cut = 0;
      let ended = 0;
      const receiver = await serveFiles(listener, {
        dir: flags.dir,
        overwrite,
        code: flags.code,
        plain: flags.plain,
        compat: flags.compat,
        maxFileBytes: flags.maxSize,
        idleTimeout: flags.idleTimeout,
        handshakeTimeout: flags.handshakeTimeout,
        maxConnections: cx.setup.maxConns,
        shutdownTimeout: flags.shutdownTimeout,
        fsync: flags.fsync,
        onEvent: (e, peer) => viewFor(peer).onEvent(e),
        onTransfer: (s) => {
          viewFor(s.peer).summary(s);
          views.delete(s.peer);
          if (s.error?.code === 'NETKIT_TRANSFER_STOPPED') cut++;
          else ended++;
        },
      });
      dir = receiver.dir;
      code = receiver.code;
      let status: number = EXIT.OK;
      // Summaries are taken as they come (the receiver keeps those nobody took); with --once,
      // the first transfer that got past its handshake decides the exit status.
      const taken = (async () => {
        for await (const s of receiver) {
          if (!flags.once) continue;
          if (!s.ok && s.error) status = exitCodeFor(new NetkitError(s.error.code as never, s.error.message));
          return;
        }
      })();
      const done = flags.once ? taken : undefined;
      return {
        close: () => receiver.close(),
        ...(done ? { done } : {}),
        exitCode: () => {
          if (!cx.io.signal.aborted || !(cut > 0 || (flags.once && ended === 0))) return status;
          out.note(
            'interrupted',
            { stopped: cut },
            cut > 0
              ? `interrupted: ${cut === 1 ? 'a transfer was' : `${cut} transfers were`} stopped; partial files stay as .part, and sending them again resumes`
              : 'interrupted before a transfer ended',
          );
          return stoppedExit(cx.io.signal);
        },
      };
    },
  });
}

/**
 * recvVia is `recv --via`: no listening; it dials the rendezvous, waits in
 * the code's room for the sender and takes one transfer.
 */
async function recvVia(
  ctx: CliContext,
  flags: RecvFlags,
  typed: string | undefined,
  out: Output,
): Promise<number> {
  if (flags.plain || flags.compat)
    throw new InvalidArgumentError(
      '--via',
      'a rendezvous carries only encrypted transfers: drop --plain and --compat',
    );
  if (flags.overwrite && flags.skipExisting)
    throw new InvalidArgumentError('--overwrite', 'cannot be combined with --skip-existing');
  const secret = flags.code ?? typed;
  if (secret === undefined)
    throw new InvalidArgumentError('--code', "pass the sender's code (netkit send --via prints it)");
  if (flags.code !== undefined && typed !== undefined)
    throw new InvalidArgumentError('--code', 'give the code once: as --code or as the argument');
  const room = roomOf(secret);
  const view = new TransferView(out, ctx.io, { quiet: flags.quiet });
  const summary = await receiveFiles({
    via: flags.via!,
    code: secret,
    dir: flags.dir,
    overwrite: flags.overwrite ? 'overwrite' : flags.skipExisting ? 'skip' : 'refuse',
    maxFileBytes: flags.maxSize,
    idleTimeout: flags.idleTimeout,
    fsync: flags.fsync,
    signal: ctx.io.signal,
    onWaiting: () =>
      out.note('waiting', { room, via: flags.via }, `waiting for the sender in room ${room} at ${flags.via}`),
    onEvent: (e) => view.onEvent(e),
  });
  view.summary(summary);
  if (summary.ok) return EXIT.OK;
  if (ctx.io.signal.aborted) return stoppedExit(ctx.io.signal);
  return exitCodeFor(new NetkitError(summary.error!.code as never, summary.error!.message));
}
