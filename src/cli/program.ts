import { Command, CommanderError } from 'commander';
import { NetkitError } from '../errors.js';
import { httpRequestCommands } from './commands/http-request.js';
import { httpServeCommand } from './commands/http-serve.js';
import { resolveCommand } from './commands/resolve.js';
import { rpcCallCommand } from './commands/rpc-call.js';
import { rpcServeCommand } from './commands/rpc-serve.js';
import { tcpConnectCommand } from './commands/tcp-connect.js';
import { tcpServeCommand } from './commands/tcp-serve.js';
import { tourCommand } from './commands/tour.js';
import { udpSendCommand } from './commands/udp-send.js';
import { udpServeCommand } from './commands/udp-serve.js';
import { wsConnectCommand } from './commands/ws-connect.js';
import { wsServeCommand } from './commands/ws-serve.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { Io } from './io.js';
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

/** buildProgram assembles the command tree; each command lives in its own file. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('netkit')
    .description(
      'Network programming toolkit: TCP, UDP, HTTP, WebSocket, RPC, framing, addresses, and a guided tour.',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .exitOverride();

  const tcp = program.command('tcp').description('TCP servers and clients');
  tcp.addCommand(tcpServeCommand(ctx));
  tcp.addCommand(tcpConnectCommand(ctx));
  const udp = program.command('udp').description('UDP servers and clients');
  udp.addCommand(udpServeCommand(ctx));
  udp.addCommand(udpSendCommand(ctx));
  const http = program.command('http').description('HTTP server (inspector) and client (with timings)');
  http.addCommand(httpServeCommand(ctx));
  for (const cmd of httpRequestCommands(ctx)) http.addCommand(cmd);
  const rpc = program.command('rpc').description('Go net/rpc (gob, JSON) and JSON-RPC 2.0 server and client');
  rpc.addCommand(rpcServeCommand(ctx));
  rpc.addCommand(rpcCallCommand(ctx));
  const ws = program
    .command('ws')
    .description('WebSocket server (echo, broadcast rooms, browser page) and client');
  ws.addCommand(wsServeCommand(ctx));
  ws.addCommand(wsConnectCommand(ctx));
  program.addCommand(resolveCommand(ctx));
  program.addCommand(tourCommand(ctx));

  // Subcommands inherit the output routing and throw instead of exiting.
  for (const cmd of walk(program)) {
    cmd.exitOverride().configureOutput(program.configureOutput());
  }
  return program;
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
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    new Output(io, argv.includes('--json')).error(err);
    return err instanceof NetkitError ? exitCodeFor(err) : EXIT.FAILURE;
  }
}
