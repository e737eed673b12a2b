import { NetkitError } from '../errors.js';
import { fileAccessError, isFsError } from '../internal/fs-errors.js';
import { Command, CommanderError } from './commander.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { Io } from './io.js';

// The entry point takes processIo from here, so that a bundled command
// (see bundle.ts) brings everything it runs in one file.
export { processIo } from './io.js';

import { Output } from './output.js';
import { VERSION } from './version.js';

/** CliContext is what every command's definition receives. */
export interface CliContext {
  readonly io: Io;
  /** argv is the full argument list this run was given (workers re-run it). */
  readonly argv: readonly string[];
  /** exitCode is set by the command's action. */
  exitCode: number;
}

/** Sub is one subcommand of a group, loaded on its own (`netkit tcp connect` never loads tcp-serve). */
interface Sub {
  readonly name: string;
  readonly load: (ctx: CliContext) => Promise<Command[]>;
}

/** Entry is a top-level command: a leaf (`netkit send`) with `load`, or a group (`netkit tcp`) with `subs`. */
interface Entry {
  readonly name: string;
  readonly description: string;
  readonly load?: (ctx: CliContext) => Promise<Command[]>;
  readonly subs?: readonly Sub[];
}

/**
 * ENTRIES are the top-level commands. Each loads its modules only when it
 * runs: a long-running `netkit ws serve` then carries no gob, RPC or UDP
 * code, which keeps start-up fast and, measured, makes its per-message work
 * cheaper (every module loaded into a process makes V8's shared call sites a
 * little more polymorphic). Within a group only the named subcommand loads:
 * `tcp serve` pulls in the TLS server and its certificate code (pkijs), which
 * `tcp connect` must not pay for at start-up.
 */
const ENTRIES: readonly Entry[] = [
  {
    name: 'tcp',
    description: 'TCP servers and clients',
    subs: [
      {
        name: 'serve',
        load: async (ctx) => [(await import('./commands/tcp-serve.js')).tcpServeCommand(ctx)],
      },
      {
        name: 'connect',
        load: async (ctx) => [(await import('./commands/tcp-connect.js')).tcpConnectCommand(ctx)],
      },
    ],
  },
  {
    name: 'udp',
    description: 'UDP servers and clients',
    subs: [
      {
        name: 'serve',
        load: async (ctx) => [(await import('./commands/udp-serve.js')).udpServeCommand(ctx)],
      },
      { name: 'send', load: async (ctx) => [(await import('./commands/udp-send.js')).udpSendCommand(ctx)] },
    ],
  },
  {
    name: 'http',
    description: 'HTTP server (inspector) and client (with timings)',
    subs: [
      {
        name: 'serve',
        load: async (ctx) => [(await import('./commands/http-serve.js')).httpServeCommand(ctx)],
      },
      // http-request defines one command per method; unnamed, it loads whenever `serve` is not the one named.
      {
        name: '',
        load: async (ctx) => (await import('./commands/http-request.js')).httpRequestCommands(ctx),
      },
    ],
  },
  {
    name: 'ws',
    description: 'WebSocket server (echo, broadcast rooms, browser page) and client',
    subs: [
      { name: 'serve', load: async (ctx) => [(await import('./commands/ws-serve.js')).wsServeCommand(ctx)] },
      {
        name: 'connect',
        load: async (ctx) => [(await import('./commands/ws-connect.js')).wsConnectCommand(ctx)],
      },
    ],
  },
  {
    name: 'rpc',
    description: 'Go net/rpc (gob, JSON) and JSON-RPC 2.0 server and client',
    subs: [
      {
        name: 'serve',
        load: async (ctx) => [(await import('./commands/rpc-serve.js')).rpcServeCommand(ctx)],
      },
      { name: 'call', load: async (ctx) => [(await import('./commands/rpc-call.js')).rpcCallCommand(ctx)] },
    ],
  },
  {
    name: 'send',
    description: 'send files and directories to `netkit recv` (verified, resumable)',
    load: async (ctx) => [(await import('./commands/send.js')).sendCommand(ctx)],
  },
  {
    name: 'recv',
    description: 'receive files from `netkit send` into a directory, safely',
    load: async (ctx) => [(await import('./commands/recv.js')).recvCommand(ctx)],
  },
  {
    name: 'relay',
    description:
      'relay, watch, balance and break traffic between two endpoints (socat, websocat, HAProxy, Toxiproxy); pair transfers at a rendezvous',
    load: async (ctx) => [(await import('./commands/relay.js')).relayCommand(ctx)],
  },
  {
    name: 'states',
    description: 'TCP sockets by state (from /proc/net/tcp): who owns them, and with --watch what changes',
    load: async (ctx) => [(await import('./commands/states.js')).statesCommand(ctx)],
  },
  {
    name: 'resolve',
    description: "resolve an address exactly as Go's net.ResolveTCPAddr / ResolveUDPAddr would",
    load: async (ctx) => [(await import('./commands/resolve.js')).resolveCommand(ctx)],
  },
  {
    name: 'tour',
    description: 'a guided tour: every capability, end to end on loopback',
    load: async (ctx) => [(await import('./commands/tour.js')).tourCommand(ctx)],
  },
  {
    name: 'completion',
    description: 'print a shell completion script (bash, zsh or fish)',
    load: async (ctx) => [(await import('./commands/completion.js')).completionCommand(ctx)],
  },
];

/**
 * buildProgram assembles the command tree; each command lives in its own
 * file. Only the entry named by argv[0] is loaded (all of them when argv[0]
 * names none, e.g. for `netkit --help`); the others appear by name alone.
 */
export async function buildProgram(ctx: CliContext): Promise<Command> {
  const program = new Command('netkit')
    .description(
      'Network programming toolkit: TCP, UDP, HTTP, WebSocket, RPC, framing, addresses, and a guided tour.',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      outputError: (s, write) => write(withRenameHint(s)),
    })
    .exitOverride();

  const first = ctx.argv[0];
  // `completion` describes the whole tree, so it loads every entry too.
  const loadAll = first === 'completion' || !ENTRIES.some((e) => e.name === first);
  for (const entry of ENTRIES) {
    const wanted = loadAll || entry.name === first;
    if (entry.load) {
      if (wanted) for (const cmd of await entry.load(ctx)) program.addCommand(cmd);
      else program.command(entry.name).description(entry.description);
      continue;
    }
    const group = program.command(entry.name).description(entry.description);
    if (!wanted) continue;
    // A named subcommand loads alone; anything else (`tcp --help`, a typo to suggest for) loads the whole group.
    const second = ctx.argv[1];
    const subs = entry.subs ?? [];
    const named = !loadAll && subs.some((s) => s.name !== '' && s.name === second);
    for (const sub of subs) {
      if (named && sub.name !== second) continue;
      for (const cmd of await sub.load(ctx)) group.addCommand(cmd);
    }
  }

  // Subcommands inherit the output routing and throw instead of exiting.
  for (const cmd of walk(program)) {
    cmd.exitOverride().configureOutput(program.configureOutput());
  }
  return program;
}

/**
 * RENAMED maps flags that were renamed to one name per kind of timeout to
 * their new names. Commander's own suggestion does not reach them (`--idle`
 * is too far from `--idle-timeout` by edit distance), so the hint is added here.
 */
const RENAMED: Readonly<Record<string, string>> = Object.freeze({
  '--idle': '--idle-timeout',
  '--timeout': '--connect-timeout',
});

function withRenameHint(message: string): string {
  const m = /unknown option '([^'=]+)/.exec(message);
  const now = m ? RENAMED[m[1]!] : undefined;
  return now ? message.replace(/\n?$/, ` (it is now ${now})\n`) : message;
}

function* walk(cmd: Command): Generator<Command> {
  for (const sub of cmd.commands) {
    yield sub;
    yield* walk(sub);
  }
}

/**
 * runCli runs netkit with `argv` (without the node and script names) and
 * resolves with the exit code. It never calls process.exit, so tests run it
 * in-process.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const ctx: CliContext = { io, argv, exitCode: EXIT.OK };
  const program = await buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    // A file-system error that escaped a command still gets a code and a sentence.
    const shown = isFsError(err) ? fileAccessError(err.path, err.syscall ?? 'use', err) : err;
    new Output(io, argv.includes('--json')).error(shown);
    return shown instanceof NetkitError ? exitCodeFor(shown) : EXIT.FAILURE;
  }
}
