import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from '../../errors.js';
import { parseDuration } from '../../internal/duration.js';
import { serveStatesLive } from '../../live/index.js';
import { explainStates, renderStateDiagram } from '../../tcpstate/diagram.js';
import {
  CloseWaitMonitor,
  type CloseWaitWarning,
  diffSockets,
  type ReadOptions,
  readTcpSockets,
  type TcpSocket,
  type TcpStateName,
} from '../../tcpstate/index.js';
import { Command, Option } from '../commander.js';
import { EXIT, stoppedExit } from '../exit-codes.js';
import { collect, durationOption, intOption, jsonOption, wrap } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { WEB_DEFAULT, webAddress, webOption, webToken } from '../web-flag.js';
import { owner, parseStateName, printChange, printTable } from './states-format.js';

/**
 * WATCH_MIN_MS is the shortest --watch interval: each sample reads all of
 * /proc/net/tcp and every process's fd table, so shorter ones only burn CPU.
 */
const WATCH_MIN_MS = 100;

interface StatesFlags {
  port?: number;
  state: string[];
  pid?: number;
  processes: boolean;
  watch?: number | true;
  count?: number;
  warnAfter: number;
  explain?: boolean;
  web?: string | true;
  interval?: number;
  json?: boolean;
}

/** statesCommand defines `netkit states`: netstat for one port, from the kernel's own tables, live. */
export function statesCommand(ctx: CliContext): Command {
  return new Command('states')
    .description('TCP sockets by state (from /proc/net/tcp): who owns them, and with --watch what changes')
    .addOption(intOption('--port <n>', 'only sockets with this local or remote port', 0, 65535))
    .option(
      '--state <state>',
      'only sockets in this state (repeatable; ESTABLISHED, CLOSE_WAIT, TIME-WAIT, …)',
      collect,
      [],
    )
    .addOption(intOption('--pid <pid>', 'only sockets owned by this process', 1, 2 ** 31 - 1))
    .option('--no-processes', 'do not look up owning processes (faster)')
    .addOption(
      new Option(
        '--watch [interval]',
        `sample again every interval (default 1s, at least ${WATCH_MIN_MS} ms) and show what changed`,
      ).argParser(wrap((v: string) => parseDuration(v, '--watch', WATCH_MIN_MS))),
    )
    .addOption(intOption('--count <n>', 'with --watch: stop after this many samples', 1, 1_000_000))
    .addOption(
      durationOption(
        '--warn-after <duration>',
        'with --watch or --web: warn when a CLOSE_WAIT socket stays this long',
        '30s',
      ),
    )
    .option('--explain', 'print the TCP state diagram with the states of the selected sockets marked')
    .addOption(webOption('the TCP table (state diagram with counts, sockets, timeline)'))
    .addOption(
      new Option(
        '--interval <duration>',
        `with --web: sample every interval while a page is open (default 1s, at least ${WATCH_MIN_MS} ms)`,
      ).argParser(wrap((v: string) => parseDuration(v, '--interval', WATCH_MIN_MS))),
    )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Sockets in TIME_WAIT belong to no process (the kernel keeps them); others show
command/pid when this user may read the owner's /proc/<pid>/fd (root sees all).
With --watch, a CLOSE_WAIT count on a port that keeps growing, or a CLOSE_WAIT
socket older than --warn-after, is reported: that server is not closing
connections its clients closed.

With --web, netkit serves a page that shows the same, live: the state diagram
with a count on every state, the sockets, a timeline of what appeared, changed
state or vanished, and the CLOSE_WAIT warning; click a state to explain it.
The table is sampled only while a page is open. It runs until Ctrl-C.

Examples:
  netkit states --port 8330
  netkit states --state CLOSE_WAIT --state LAST_ACK
  netkit states --port 8330 --watch 500ms
  netkit states --port 8330 --explain
  netkit states --port 8330 --web                      # open the printed URL
  netkit states --port 8330 --web 127.0.0.1:8331 --interval 250ms
  netkit states --web 0.0.0.0:8331                     # the URL carries a token`,
    )
    .action(async (flags: StatesFlags) => {
      ctx.exitCode = await runStates(ctx, flags);
    });
}

/** checkFlags refuses flags that mean nothing together, naming both. */
function checkFlags(flags: StatesFlags): void {
  if (flags.web !== undefined) {
    for (const [name, given] of [
      ['--watch', flags.watch !== undefined],
      ['--count', flags.count !== undefined],
      ['--explain', Boolean(flags.explain)],
    ] as const) {
      if (given)
        throw new InvalidArgumentError(
          '--web',
          `cannot be combined with ${name}: the page samples by itself (set its pace with --interval)`,
        );
    }
  } else if (flags.interval !== undefined) {
    throw new InvalidArgumentError(
      '--interval',
      'goes with --web; with --watch, give the interval to --watch',
    );
  }
}

async function runStates(ctx: CliContext, flags: StatesFlags): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  checkFlags(flags);
  const states = flags.state.map(parseStateName);
  const read: ReadOptions = {
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(states.length > 0 ? { states } : {}),
    ...(flags.pid !== undefined ? { pid: flags.pid } : {}),
    processes: flags.processes,
  };
  if (flags.web !== undefined) return runWeb(ctx, out, flags, read);
  let sockets = await readTcpSockets(read);
  if (flags.explain) {
    explain(out, sockets);
    return EXIT.OK;
  }
  printTable(out, sockets);
  if (flags.watch === undefined) return EXIT.OK;
  const interval = flags.watch === true ? 1000 : flags.watch;
  const monitor = new CloseWaitMonitor({ maxAgeMs: flags.warnAfter });
  monitor.observe(sockets, Date.now());
  const signal = ctx.io.signal;
  for (let n = 1; flags.count === undefined || n < flags.count; n++) {
    try {
      await sleep(interval, undefined, { signal });
    } catch {
      break;
    }
    const next = await readTcpSockets(read);
    const at = new Date();
    for (const c of diffSockets(sockets, next)) printChange(out, c, at);
    for (const w of monitor.observe(next, at.getTime())) warn(out, w);
    sockets = next;
  }
  return signal.aborted ? stoppedExit(signal) : EXIT.OK;
}

/**
 * runWeb serves the live page until Ctrl-C or SIGTERM. The table is read
 * once first, so a machine without /proc/net/tcp fails here and not in the
 * page; after that it is read only while a page is open.
 */
async function runWeb(ctx: CliContext, out: Output, flags: StatesFlags, read: ReadOptions): Promise<number> {
  const address = webAddress(flags.web) ?? WEB_DEFAULT;
  // The page shows every process's sockets and command names: beyond this machine it needs the token.
  const token = webToken(address);
  await readTcpSockets(read);
  const signal = ctx.io.signal;
  const server = await serveStatesLive(address, {
    read,
    interval: flags.interval ?? 1000,
    warnAfter: flags.warnAfter,
    ...(token ? { token } : {}),
  });
  out.event(
    'live',
    { address: server.address, url: server.url, ...(token ? { token: true } : {}), pid: process.pid },
    `live page ${server.url}`,
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  out.note('stopped', { address: server.address }, 'stopped');
  // Stopping is how a server ends, as for the serve commands.
  return EXIT.OK;
}

function warn(out: Output, w: CloseWaitWarning): void {
  const who = w.pid !== undefined ? ` (${w.command}/${w.pid})` : '';
  const why = w.reason === 'growing' ? 'and growing' : `the oldest for ${(w.oldestMs / 1000).toFixed(1)}s`;
  out.note(
    'warning',
    { ...w },
    `${out.paint('red', 'warning:', 'stderr')} ${w.count} CLOSE_WAIT socket${w.count === 1 ? '' : 's'} on port ${w.port}${who}, ${why}: the process is not closing connections its peers closed`,
  );
}

function explain(out: Output, sockets: readonly TcpSocket[]): void {
  const marked = new Set<TcpStateName>(sockets.map((s) => s.state));
  if (out.json) {
    out.event('explain', {
      states: [...marked],
      lines: explainStates(marked),
      sockets: sockets.map((s) => ({ state: s.state, local: s.local, remote: s.remote, process: owner(s) })),
    });
    return;
  }
  // Colour marks the states on a terminal; elsewhere the diagram's own *NAME* marks do.
  const mark = out.colorful ? (name: string) => out.paint('yellow', name) : undefined;
  out.event('diagram', {}, renderStateDiagram(marked, mark));
  out.event('states', {}, '');
  for (const line of explainStates(marked)) out.event('state', {}, line);
}
