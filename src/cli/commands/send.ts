import { InvalidArgumentError, isNetkitError } from '../../errors.js';
import { backoffDelay, checkBackoff } from '../../internal/backoff.js';
import { safeText } from '../../internal/text.js';
import { type SendOptions, sendFiles, type TransferSummary } from '../../transfer/index.js';
import { Command } from '../commander.js';
import { EXIT, stoppedExit } from '../exit-codes.js';
import { durationOption, intOption, jsonOption, networkOption } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { addProxyFlags, type ProxyFlags, proxyFromFlag, proxyHelp } from '../proxy-flags.js';
import { addTlsFlags, TLS_HELP, type TlsFlags, tlsFromFlags } from '../tls-flags.js';
import { TransferView } from '../transfer-view.js';

/** BROKEN are the errors of a connection lost mid-file (the receiver killed, the link cut), after which a resend resumes (not with --compat). */
const BROKEN = ['NETKIT_CONNECTION_RESET', 'NETKIT_CONNECTION_CLOSED', 'NETKIT_TIMEOUT'] as const;

/**
 * UNREACHED are the errors of a receiver that took nothing yet: not reached
 * (down, restarting, the link cut) or busy with as many transfers as it
 * allows; --retry tries again.
 */
const UNREACHED = ['NETKIT_DIAL_FAILED', 'NETKIT_CONNECT_TIMEOUT', 'NETKIT_TRANSFER_BUSY'] as const;

/** RETRY_BACKOFF spaces --retry attempts: 1 s, 2 s, 4 s … up to 30 s, with jitter. */
const RETRY_BACKOFF = checkBackoff('--retry', { initial: 1000, max: 30_000 });

interface SendFlags extends TlsFlags, ProxyFlags {
  code?: string;
  via?: string;
  plain?: boolean;
  compat?: boolean;
  connectTimeout: number;
  idleTimeout: number;
  retry: number;
  network: string;
  quiet?: boolean;
  json?: boolean;
}

/** sendCommand defines `netkit send <path…> <address>`. */
export function sendCommand(ctx: CliContext): Command {
  const cmd = new Command('send')
    .description('send files and directories to `netkit recv`, end-to-end encrypted and resumable')
    .usage('[options] <path…> <address>  |  --via <rendezvous> [options] <path…>')
    .argument(
      '<path-and-address...>',
      "files and directories to send, then the receiver's host:port (or unix:/path); with --via, only the paths",
    )
    .option(
      '--code <words>',
      "the receiver's code (netkit recv prints it); with --via, the code to give the receiver (default: generated and printed)",
    )
    .option(
      '--via <address>',
      'meet the receiver at a rendezvous (netkit relay --rendezvous) instead of dialling it: neither side needs an open port',
    )
    .option(
      '--plain',
      'the cleartext protocol 1, to a receiver started with --plain (no encryption; SHA-256 per file)',
    )
    .option(
      '--compat',
      'the classic protocol: name, "ok", bytes until close (files only, one connection each)',
    )
    .addOption(durationOption('--connect-timeout <duration>', 'give up connecting after this long', '10s'))
    .addOption(durationOption('--idle-timeout <duration>', 'fail when the receiver stalls this long', '30s'))
    .addOption(
      intOption(
        '--retry <n>',
        'when the receiver cannot be reached or the connection breaks, send again up to n times (1 s, 2 s, 4 s … apart), resuming',
        0,
        1000,
        0,
      ),
    )
    .addOption(networkOption('tcp'))
    .option('-q, --quiet', 'print only the summary')
    .addOption(jsonOption());
  addProxyFlags(cmd, false);
  return addTlsFlags(cmd, 'address')
    .addHelpText(
      'after',
      `
Transfers are end-to-end encrypted (AES-256-GCM) under a key both sides
derive from the code with SPAKE2; names, sizes and metadata are encrypted
too. A wrong code ends the session after one exchange, before anything is
sent. With --via, both sides dial out to a rendezvous, which pairs them by
the code's first part (the room, not secret) and cannot read what it
carries; the code is generated and printed unless --code is given.

Directories are sent recursively under their own name, keeping relative
paths, modes and modification times; symlinks inside them are skipped,
not followed. Sending the same paths again after an interruption
completes the transfer: files that already arrived whole (same size and
time) are skipped (replaced, if the receiver runs with --overwrite), the
file cut short resumes from the part the receiver verified, and only the
rest is sent. The classic protocol (--compat) cannot resume.
${TLS_HELP}
${proxyHelp(false)} With --via, the proxy is used to reach the rendezvous.

Examples:
  netkit send report.pdf photos/ 127.0.0.1:8340 --code 6872-spot-exist-glove
  netkit send --via rv.example:9009 backup.tar    # prints a code for netkit recv --via
  netkit send --plain notes.txt 127.0.0.1:8340    # to a netkit recv --plain
  netkit send --compat notes.txt 127.0.0.1:8000   # to the classic Go receiver
  netkit send report.pdf 127.0.0.1:8340 --pin sha256:3f1c…   # a netkit recv --tls
  netkit send report.pdf unix:/run/recv.sock`,
    )
    .action(async (args: string[], flags: SendFlags) => {
      ctx.exitCode = await runSend(ctx, args, flags);
    });
}

async function runSend(ctx: CliContext, args: string[], flags: SendFlags): Promise<number> {
  if (flags.via === undefined && args.length < 2) {
    throw new InvalidArgumentError(
      '<path…> <address>',
      "name at least one file or directory, then the receiver's address (or meet it --via a rendezvous)",
    );
  }
  if (flags.plain && flags.compat)
    throw new InvalidArgumentError('--plain', 'cannot be combined with --compat');
  if (flags.via !== undefined && (flags.plain || flags.compat))
    throw new InvalidArgumentError(
      '--via',
      'a rendezvous carries only encrypted transfers: drop --plain and --compat',
    );
  if (flags.via === undefined && flags.code === undefined && !flags.plain && !flags.compat) {
    throw new InvalidArgumentError(
      '--code',
      "pass the receiver's code (netkit recv prints it), meet it --via a rendezvous, or --plain for a receiver started with --plain",
    );
  }
  const out = new Output(ctx.io, Boolean(flags.json));
  const view = new TransferView(out, ctx.io, { quiet: flags.quiet });
  const paths = flags.via === undefined ? args.slice(0, -1) : args;
  const address = flags.via === undefined ? args.at(-1)! : undefined;
  // A generated code is kept across --retry attempts: the receiver was told this one.
  let code = flags.code;
  const tls = await tlsFromFlags(flags);
  const proxy = proxyFromFlag(flags);
  const started = performance.now();
  let summary!: TransferSummary;
  // The last file put on the wire: a connection broken after it started (while it was sent, or
  // while the receiver was still verifying it) leaves it as a part on the receiver.
  let current: string | undefined;
  const options = (): SendOptions => ({
    code,
    plain: flags.plain,
    onCode: (c) => {
      code = c;
      view.clear();
      out.note(
        'code',
        { code: c, via: flags.via },
        `code ${c}\n  on the other side: netkit recv --via ${flags.via} ${c}`,
      );
    },
    compat: flags.compat,
    connectTimeout: flags.connectTimeout,
    idleTimeout: flags.idleTimeout,
    network: flags.network,
    ...(tls !== undefined ? { tls } : {}),
    ...(proxy !== undefined ? { proxy } : {}),
    signal: ctx.io.signal,
    onEvent: (e) => {
      if (e.type === 'file-start') current = e.path;
      view.onEvent(e);
    },
    onSkipped: (s) => {
      view.clear();
      out.note('skipped', { path: s.path, reason: s.reason }, `skipped ${safeText(s.path)}: ${s.reason}`);
    },
  });
  const sendOnce = () =>
    address === undefined
      ? sendFiles(paths, { ...options(), via: flags.via! })
      : sendFiles(paths, address, options());

  for (let attempt = 0; ; attempt++) {
    try {
      summary = await sendOnce();
      break;
    } catch (err) {
      view.clear();
      if (isNetkitError(err, 'NETKIT_ABORTED') || ctx.io.signal.aborted) {
        // The classic protocol has no resume, and a netkit receiver removes its part.
        const next = flags.compat
          ? 'the classic protocol cannot resume'
          : 'sending again resumes where this stopped';
        out.note('interrupted', {}, `interrupted; ${next}`);
        return stoppedExit(ctx.io.signal);
      }
      const broken =
        !flags.compat && current !== undefined && BROKEN.some((code) => isNetkitError(err, code));
      const unreached = UNREACHED.some((code) => isNetkitError(err, code));
      // Nothing reached a receiver that was never connected, so even the classic protocol may try again.
      if (attempt < flags.retry && (broken || unreached)) {
        const wait = backoffDelay(RETRY_BACKOFF, attempt);
        const code = isNetkitError(err) ? err.code : undefined;
        out.note(
          'retry',
          { attempt: attempt + 1, of: flags.retry, ms: wait, code, ...(broken ? { path: current } : {}) },
          `${(err as Error).message}; sending again in ${(wait / 1000).toFixed(1)} s (${attempt + 1} of ${flags.retry})${broken ? ', resuming' : ''}`,
        );
        current = undefined;
        if (!(await pause(wait, ctx.io.signal))) return stoppedExit(ctx.io.signal);
        continue;
      }
      if (broken) {
        out.note(
          'resumable',
          { path: current },
          `the connection broke during ${safeText(current as string)}; the receiver keeps its part, and sending it again resumes it`,
        );
      }
      throw err;
    }
  }
  summary.seconds = (performance.now() - started) / 1000;
  view.summary(summary);
  return EXIT.OK;
}

/** pause waits `ms`, or until the signal fires: false then. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
