import { endpointText, type Listener, listen, UNIX_PREFIX } from '../tcp/index.js';
import { clearStaleSocket } from '../tcp/unix.js';
import type { CertificatePair, TlsServerOptions } from '../tls/server.js';
import { Argument, Command } from './commander.js';
import { EXIT } from './exit-codes.js';
import { keepAliveFromFlags, wrap } from './options.js';
import { Output } from './output.js';
import type { CliContext } from './program.js';
import {
  addServerFlags,
  checkServerFlags,
  parseListenAddress,
  type ServerFlags,
  type ServerFlagText,
  type ServerSetup,
} from './server-flags.js';
import {
  ephemeralHosts,
  ephemeralPair,
  fingerprintOf,
  readClientCa,
  readPair,
  reloadCertificate,
  tlsFlagError,
  tlsOptions,
} from './server-tls.js';
import { runPrimary, WorkerLink } from './workers.js';

/**
 * The one helper behind every server command (`tcp serve`, `rpc serve`,
 * `http serve`, `ws serve`, `recv`): it owns the address argument, the
 * shared flags (server-flags.ts) and the lifecycle — check everything,
 * bind (PROXY, TLS, Unix sockets: the library's one pipeline), print the
 * `listening` line, reload the certificate on SIGHUP, stop gracefully on
 * Ctrl-C or SIGTERM, run as --workers processes. A command states only
 * what is special about it: its own flags, its listening text, and how to
 * start its protocol on a Listener.
 */

/** Bound is where a server listens, as its `listening` line shows it. */
export interface Bound {
  /** address is what a client dials: `127.0.0.1:8330`, `[::]:8330`, `unix:/run/app.sock`. */
  readonly address: string;
  readonly tls: boolean;
  readonly unix: boolean;
  /** workers is --workers (1 for one process). */
  readonly workers: number;
  /** url is `scheme://address/path`, `https`/`wss` with TLS; `scheme://unix:/socket:/path` for a Unix socket. */
  url(scheme: 'http' | 'ws', path?: string): string;
}

/** Serving is a command's server once started on its Listener. */
export interface Serving {
  /** close shuts the server down gracefully within --shutdown-timeout; it closes the listener. */
  close(): Promise<void>;
  /** done resolves when the server ends by itself (`recv --once`), not only when told to stop. */
  done?: Promise<unknown>;
  /** exitCode is the command's status once closed (0 when absent). */
  exitCode?: () => number;
}

/** ServeContext is what a command's start() gets besides the listener and its flags. */
export interface ServeContext {
  readonly out: Output;
  readonly io: CliContext['io'];
  /** worker is this process's number under --workers, undefined otherwise. */
  readonly worker: number | undefined;
  /** tag is `{ worker }` under --workers, else empty: spread it into every event. */
  readonly tag: Readonly<{ worker?: number }>;
  readonly setup: ServerSetup;
}

/** ServerCommandSpec is what a server command states about itself. */
export interface ServerCommandSpec<F extends ServerFlags> {
  name: string;
  description: string;
  defaultAddress: string;
  /** addressHelp completes "host:port to listen on (…)". */
  addressHelp: string;
  flags: ServerFlagText;
  /** options adds the command's own flags (they come first in --help). */
  options: (cmd: Command) => void;
  /** help is the text after the flags in --help: what the server does, examples. */
  help: string;
  /** alpn is the protocol offered over TLS (`http/1.1` for HTTP and WebSocket). */
  alpn?: readonly string[];
  /**
   * prepare checks the command's own flags and loads what it needs (in the
   * --workers primary too, so a mistake is reported once), before anything
   * is bound or forked.
   */
  prepare?: (flags: F, setup: ServerSetup) => void | Promise<void>;
  /** relay picks the worker messages the --workers primary passes between workers (ws rooms). */
  relay?: (flags: F) => ((msg: unknown) => boolean) | undefined;
  /** describe is the command's `listening` line (the TLS fingerprint is added to it) and its extra JSON fields. */
  describe: (flags: F, at: Bound) => { text: string; fields?: Record<string, unknown> };
  /** start runs the protocol on `listener`. */
  start: (listener: Listener, flags: F, cx: ServeContext) => Promise<Serving>;
  /**
   * instead runs the command without listening when its flags ask for that
   * (`recv --via` dials out to a rendezvous): it gets the address argument
   * as typed (undefined when none was) and returns the exit status; it
   * returns undefined to serve as usual.
   */
  instead?: (flags: F, typed: string | undefined, out: Output) => Promise<number> | undefined;
}

/** serverCommand builds a server command from its spec. */
export function serverCommand<F extends ServerFlags>(ctx: CliContext, spec: ServerCommandSpec<F>): Command {
  const cmd = new Command(spec.name)
    .description(spec.description)
    .addArgument(
      new Argument(
        '[address]',
        `host:port to listen on (${spec.addressHelp}; a bare port means :port), or unix:/path`,
      )
        .default(spec.defaultAddress)
        .argParser(wrap(parseListenAddress)),
    );
  spec.options(cmd);
  addServerFlags(cmd, spec.flags);
  cmd.addHelpText('after', spec.help);
  cmd.action(async (address: string, flags: F, self: Command) => {
    const other = spec.instead?.(flags, self.args[0], new Output(ctx.io, Boolean(flags.json)));
    if (other !== undefined) {
      ctx.exitCode = await other;
      return;
    }
    ctx.exitCode = await runServer(
      ctx,
      spec,
      address,
      flags,
      (name) => self.getOptionValueSource(name) === 'cli',
    );
  });
  return cmd;
}

async function runServer<F extends ServerFlags>(
  ctx: CliContext,
  spec: ServerCommandSpec<F>,
  address: string,
  flags: F,
  explicit: (name: string) => boolean,
): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const setup = checkServerFlags(address, flags, explicit, spec.flags.handshakeTimeout !== undefined);
  await spec.prepare?.(flags, setup);
  const link = WorkerLink.of(ctx.io.env);
  const hup = hangups();
  try {
    if (flags.workers > 1 && link === undefined) return await runPrimaryOf(ctx, spec, flags, setup, out, hup);
    return await serveHere(ctx, spec, flags, setup, out, link, hup);
  } finally {
    hup.dispose();
  }
}

/** Hangups routes SIGHUP to whatever reloads the server now. */
interface Hangups {
  /** handle makes `fn` the reload, running it at once for a SIGHUP that came while starting. */
  handle(fn: (() => void) | undefined): void;
  dispose(): void;
}

/**
 * hangups takes SIGHUP from the start: its default action ends the
 * process, so one sent while the server is still starting (reading files,
 * forking workers) must neither kill it nor be lost.
 */
function hangups(): Hangups {
  let reload: (() => void) | undefined;
  let pending = false;
  const onHangup = () => {
    if (reload) reload();
    else pending = true;
  };
  process.on('SIGHUP', onHangup);
  return {
    handle: (fn) => {
      reload = fn;
      if (fn && pending) {
        pending = false;
        fn();
      }
    },
    dispose: () => process.off('SIGHUP', onHangup),
  };
}

/** bound describes the address for the listening line; `unixPath` is the socket's path. */
function bound(address: string, setup: ServerSetup, workers: number): Bound {
  const unixPath = setup.unix ? address.slice(UNIX_PREFIX.length) : undefined;
  return {
    address,
    tls: setup.tls,
    unix: setup.unix,
    workers,
    url: (scheme, path = '/') => {
      const s = setup.tls ? `${scheme}s` : scheme;
      return unixPath === undefined ? `${s}://${address}${path}` : `${s}://unix:${unixPath}:${path}`;
    },
  };
}

/** announce prints the `listening` event: the command's line and fields, then TLS and the process. */
function announce<F extends ServerFlags>(
  out: Output,
  spec: ServerCommandSpec<F>,
  flags: F,
  at: Bound,
  fingerprint: string | undefined,
): void {
  const { text, fields } = spec.describe(flags, at);
  out.event(
    'listening',
    {
      address: at.address,
      ...fields,
      ...(at.workers > 1 ? { workers: at.workers } : {}),
      ...(fingerprint === undefined ? {} : { tls: true, fingerprint }),
      pid: process.pid,
    },
    `${text}${fingerprint === undefined ? '' : ` tls ${fingerprint}`}`,
  );
}

/**
 * serveHere serves in this process: alone, or as one of the primary's
 * workers (which print no `listening` line of their own, and tag their
 * events with their number).
 */
async function serveHere<F extends ServerFlags>(
  ctx: CliContext,
  spec: ServerCommandSpec<F>,
  flags: F,
  setup: ServerSetup,
  out: Output,
  link: WorkerLink | undefined,
  hup: Hangups,
): Promise<number> {
  let tls: TlsServerOptions | undefined;
  if (setup.tls) {
    let pair: CertificatePair | undefined;
    if (flags.cert !== undefined && flags.key !== undefined) pair = await readPair(flags.cert, flags.key);
    else if (link) pair = await link.certificate();
    const clientCa = flags.clientCa === undefined ? undefined : await readClientCa(flags.clientCa);
    tls = tlsOptions(flags, {
      ...(pair ? { pair } : {}),
      hosts: ephemeralHosts(setup.address, setup.unix),
      ...(clientCa ? { clientCa } : {}),
      ...(spec.alpn ? { alpn: spec.alpn } : {}),
    });
  }
  const keepAlive = setup.unix ? undefined : keepAliveFromFlags(flags);
  const listener = await listen(setup.address, {
    network: setup.network,
    ...(keepAlive !== undefined ? { keepAlive } : {}),
    ...(setup.proxy ? { proxy: setup.proxy } : {}),
    ...(tls ? { tls } : {}),
    ...(setup.socketMode !== undefined ? { socketMode: setup.socketMode } : {}),
  }).catch((err: unknown) => {
    throw tlsFlagError(err, flags);
  });
  // A server prints a line per connection or request: batched per turn, spaced under load (LineWriter),
  // logging does not cost a write(2) each. Everything is written out once the server has closed.
  const unbuffer = flags.quiet ? undefined : out.buffer();
  try {
    return await serveOn(ctx, spec, flags, setup, out, link, hup, listener);
  } finally {
    unbuffer?.();
  }
}

/** serveOn runs the command's protocol on `listener` until it is told to stop or ends by itself. */
async function serveOn<F extends ServerFlags>(
  ctx: CliContext,
  spec: ServerCommandSpec<F>,
  flags: F,
  setup: ServerSetup,
  out: Output,
  link: WorkerLink | undefined,
  hup: Hangups,
  listener: Listener,
): Promise<number> {
  const worker = link?.id;
  const tag = worker === undefined ? {} : { worker };
  let serving: Serving;
  try {
    serving = await spec.start(listener, flags, { out, io: ctx.io, worker, tag, setup });
  } catch (err) {
    await listener.close();
    throw err;
  }
  const at = bound(endpointText(listener.addr), setup, flags.workers);
  if (worker === undefined) announce(out, spec, flags, at, listener.tls?.fingerprint);

  const reload = () => void reloadCertificate(listener, flags, out, tag);
  hup.handle(reload);
  let unlink: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    const signal = ctx.io.signal;
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    unlink = link?.on({ stop: resolve, reload });
    void serving.done?.then(() => resolve());
  });
  hup.handle(undefined);
  unlink?.();
  // close() keeps to --shutdown-timeout itself; this only makes sure the command returns.
  let backstop: NodeJS.Timeout | undefined;
  await Promise.race([
    serving.close(),
    new Promise<void>((resolve) => {
      backstop = setTimeout(resolve, flags.shutdownTimeout + 1000);
    }),
  ]);
  clearTimeout(backstop);
  if (worker === undefined) out.note('stopped', { address: at.address }, 'stopped');
  return serving.exitCode?.() ?? EXIT.OK;
}

/**
 * runPrimaryOf supervises --workers processes. Everything a worker would
 * refuse is checked here first, once: the certificate files are read (and
 * give the fingerprint for the listening line), an ephemeral certificate
 * is made once and handed to every worker, and a stale Unix socket file
 * is cleared (workers leave the path to the primary, which binds it).
 */
async function runPrimaryOf<F extends ServerFlags>(
  ctx: CliContext,
  spec: ServerCommandSpec<F>,
  flags: F,
  setup: ServerSetup,
  out: Output,
  hup: Hangups,
): Promise<number> {
  let certificate: CertificatePair | undefined;
  let fingerprint: string | undefined;
  if (setup.tls) {
    if (flags.clientCa !== undefined) await readClientCa(flags.clientCa);
    if (flags.cert !== undefined && flags.key !== undefined) {
      fingerprint = fingerprintOf(await readPair(flags.cert, flags.key));
    } else {
      certificate = await ephemeralPair(ephemeralHosts(setup.address, setup.unix));
      fingerprint = fingerprintOf(certificate);
    }
  }
  let umask: number | undefined;
  if (setup.unix) {
    const path = setup.address.slice(UNIX_PREFIX.length);
    await clearStaleSocket(path, setup.address);
    // node:cluster binds the path here, in the primary, so the mode must be this process's umask.
    if (setup.socketMode !== undefined) umask = process.umask(0o777 & ~setup.socketMode);
  }
  const relay = spec.relay?.(flags);
  let listening: string | undefined;
  try {
    const code = await runPrimary({
      count: flags.workers,
      argv: ctx.argv,
      signal: ctx.io.signal,
      out,
      graceMs: flags.shutdownTimeout,
      ...(certificate ? { certificate } : {}),
      ...(setup.unix ? { unixAddress: setup.address } : {}),
      ...(relay ? { relay } : {}),
      hangups: (forward) => hup.handle(forward),
      listening: (address) => {
        listening = address;
        announce(out, spec, flags, bound(address, setup, flags.workers), fingerprint);
      },
    });
    if (listening !== undefined) out.note('stopped', { address: listening }, 'stopped');
    return code;
  } finally {
    if (umask !== undefined) process.umask(umask);
  }
}
