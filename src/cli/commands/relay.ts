import { InvalidArgumentError } from '../../errors.js';
import { formatDuration } from '../../internal/duration.js';
import { formatBytes } from '../../internal/text.js';
import type { ConnSummary, DumpChunk, DumpMode, RelayOptions } from '../../relay/index.js';
import { parsePin } from '../../tls/fingerprint.js';
import { Argument, Command, Option } from '../commander.js';
import { EXIT } from '../exit-codes.js';
import { readFileFlag } from '../files.js';
import {
  bytesOption,
  collect,
  durationOption,
  intOption,
  jsonOption,
  networkOption,
  proxyFromFlags,
  proxyProtocolOption,
  trustOption,
  wrap,
} from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { parseListenAddress, parseSocketMode } from '../server-flags.js';
import { ephemeralHosts, readClientCa, readPair, tlsFlagError } from '../server-tls.js';
import { tlsFromFlags } from '../tls-flags.js';
import { webAddress, webOption, webToken } from '../web-flag.js';
import {
  addRendezvousFlags,
  checkRendezvousFlags,
  type RendezvousFlags,
  startRendezvous,
} from './relay-rendezvous.js';

interface RelayFlags extends RendezvousFlags {
  balance: 'round-robin' | 'least-conns';
  healthCheck?: number;
  sendProxy?: 'v1' | 'v2';
  fault: string[];
  dump?: DumpMode;
  dumpMax?: number;
  api?: string;
  web?: string | true;
  name?: string;
  maxConns: number;
  idleTimeout?: number;
  connectTimeout: number;
  shutdownTimeout: number;
  maxChildren: number;
  allowRemoteExec?: boolean;
  maxClients: number;
  network: string;
  socketMode?: number;
  proxyProtocol?: boolean;
  trust: string[];
  cert?: string;
  key?: string;
  clientCa?: string;
  handshakeTimeout: number;
  cacert?: string;
  insecure?: boolean;
  servername?: string;
  pin?: string;
  targetCert?: string;
  targetKey?: string;
  quiet?: boolean;
  json?: boolean;
}

const HELP = `
Endpoints (listen, then one or more targets):
  HOST:PORT, tcp:HOST:PORT    TCP (a bare listen port, 9000, is :9000)
  tls:HOST:PORT               TLS: terminated on the listen side (--cert/--key, or an
                              ephemeral certificate), originated to a target
  ws://HOST:PORT/PATH, wss:// WebSocket, one binary message per chunk
  udp:HOST:PORT               datagrams, relayed per client (listen and target both udp:)
  unix:PATH                   a Unix socket
  -                           stdin/stdout, for one connection
  exec:COMMAND                a program per connection on its stdin/stdout (target only;
                              split without a shell; loopback clients only unless
                              --allow-remote-exec)

Relaying is faithful: a FIN is passed on while the other direction keeps flowing, an RST
is passed on as an RST, and a slow reader pauses its writer (bounded memory).

A rendezvous (--rendezvous, with or without a relay) pairs a sender and a receiver that
both dial out to it, by the room of their code, and pipes their end-to-end encrypted
bytes; the listen-side flags (--network, --socket-mode, --proxy-protocol, --cert...) and
--idle-timeout and --shutdown-timeout apply to it too. See docs/rendezvous.md.

Faults (--fault, repeatable; the same as Toxiproxy's toxics; see docs/relay-faults.md):
  latency=100ms[,jitter=20ms]   bandwidth=64KB    slicer=4[,delay=10ms]
  reset-after=1000   close-after=1000   blackhole[-after=1000]   slow-close=2s
  refuse=0.3         each takes stream=up|down|both and toxicity=0..1

Examples:
  netkit relay :8080 127.0.0.1:80 --dump text          watch a protocol, socat -v style
  netkit relay :8080 ws://127.0.0.1:9000/ws             TCP clients into a WebSocket server
  netkit relay :7000 10.0.0.1:7000 10.0.0.2:7000 --balance least-conns --send-proxy v2
  netkit relay :8080 127.0.0.1:80 --fault latency=200ms --fault slicer=4,delay=5ms
  netkit relay --api 127.0.0.1:8474                     a Toxiproxy-compatible server
  netkit relay :8080 127.0.0.1:80 --web                 watch it live in the browser (URL printed)
  netkit relay --rendezvous :9009                       a rendezvous for netkit send and recv
  netkit relay 127.0.0.1:2222 exec:'/bin/cat -n'        a program per connection

Live page (--web [ADDRESS], after the endpoints or as --web=ADDRESS): every proxy, its
connections (bytes each way, age, who closed first, FIN or RST), the traffic of one
(escaped text or hex, the last 64 KiB) and its faults, added, changed and removed from
the page through the same API as --api. Loopback by default; another address gets a
token in the printed URL. See docs/relay.md.

Exit status: 0 after Ctrl-C or when a - connection ends, 2 for bad flags or endpoints,
3 when the listen address cannot be bound.`;

/** relayCommand is `netkit relay <listen> <target…>`. */
export function relayCommand(ctx: CliContext): Command {
  const cmd = new Command('relay')
    .description(
      'relay, watch, balance and break traffic between two endpoints (socat, websocat, HAProxy, Toxiproxy); pair transfers at a rendezvous',
    )
    .addArgument(
      new Argument('[listen]', 'where clients connect (see Endpoints below)').argParser(
        wrap(parseListenAddress),
      ),
    )
    .argument('[targets...]', 'where connections go; several are balanced')
    .addOption(
      new Option('--balance <how>', 'how several targets share connections')
        .choices(['round-robin', 'least-conns'])
        .default('round-robin'),
    )
    .addOption(
      durationOption(
        '--health-check <interval>',
        'TCP-connect check of each target this often (0 = off; default 2s with several targets)',
      ),
    )
    .addOption(
      new Option(
        '--send-proxy <version>',
        'send a PROXY header to each target naming the real client',
      ).choices(['v1', 'v2']),
    )
    .addOption(
      new Option('--fault <spec>', 'inject a fault (repeatable; see Faults below)')
        .argParser(collect)
        .default([]),
    )
    .addOption(
      new Option('--dump <mode>', 'print every chunk both ways, socat -v style').choices(['text', 'hex']),
    )
    .addOption(bytesOption('--dump-max <bytes>', 'show at most this much of each chunk'))
    .option('--api <address>', 'serve a Toxiproxy-compatible REST API here (alone: a toxiproxy-server)')
    .addOption(webOption('the proxies, their connections, traffic and faults'))
    .option('--name <name>', "the relay's name in events and in the API (default: the listen endpoint)")
    .addOption(
      intOption(
        '--max-conns <n>',
        'relay at most this many connections; reset new ones past it',
        1,
        1_000_000,
        10_000,
      ),
    )
    .addOption(
      durationOption(
        '--idle-timeout <duration>',
        'close connections (udp: forget clients) silent this long (0 = never; udp default 1m, rendezvous rooms 10m)',
      ),
    )
    .addOption(
      durationOption('--connect-timeout <duration>', 'give up connecting to a target after this long', '10s'),
    )
    .addOption(
      durationOption('--shutdown-timeout <duration>', 'on Ctrl-C, let connections finish this long', '5s'),
    )
    .addOption(intOption('--max-children <n>', 'exec: programs running at once', 1, 10_000, 16))
    .option(
      '--allow-remote-exec',
      'let exec: serve clients that are not on loopback (a remote shell: think twice)',
    )
    .addOption(
      intOption(
        '--max-clients <n>',
        'udp: clients remembered at once (bounds a spoofed flood)',
        1,
        1_000_000,
        1024,
      ),
    )
    .addOption(networkOption('tcp'))
    .addOption(
      new Option('--socket-mode <mode>', 'permissions of a unix: listen socket, in octal (0660)').argParser(
        wrap(parseSocketMode),
      ),
    )
    .addOption(proxyProtocolOption())
    .addOption(trustOption())
    .addOption(
      new Option(
        '--cert <file>',
        'certificate (PEM) of a tls: or wss:// listen side or rendezvous; ephemeral when absent',
      ).helpGroup('TLS, listen side:'),
    )
    .addOption(new Option('--key <file>', 'private key (PEM) of --cert').helpGroup('TLS, listen side:'))
    .addOption(
      new Option('--client-ca <file>', 'require client certificates from this CA (PEM)').helpGroup(
        'TLS, listen side:',
      ),
    )
    .addOption(
      durationOption(
        '--handshake-timeout <duration>',
        'close a client whose TLS handshake is not done by then',
        '5s',
      ).helpGroup('TLS, listen side:'),
    )
    .addOption(
      new Option(
        '--cacert <file>',
        'trust these CA certificates (PEM) for tls: and wss:// targets',
      ).helpGroup('TLS, target side:'),
    )
    .addOption(
      new Option('-k, --insecure', "do not verify targets' certificates (testing only)").helpGroup(
        'TLS, target side:',
      ),
    )
    .addOption(
      new Option('--servername <name>', 'SNI name sent to targets (default: the host)').helpGroup(
        'TLS, target side:',
      ),
    )
    .addOption(
      new Option('--pin <sha256:hex>', 'accept exactly this target certificate')
        .argParser(wrap((v) => parsePin('--pin', v)))
        .helpGroup('TLS, target side:'),
    )
    .addOption(
      new Option('--target-cert <file>', 'client certificate (PEM) for targets that require one').helpGroup(
        'TLS, target side:',
      ),
    )
    .addOption(
      new Option('--target-key <file>', 'private key (PEM) of --target-cert').helpGroup('TLS, target side:'),
    )
    .option('-q, --quiet', 'no line per connection')
    .addOption(jsonOption())
    .addHelpText('after', HELP)
    .action(async (listen: string | undefined, targets: string[], flags: RelayFlags) => {
      checkRendezvousFlags(cmd, flags);
      ctx.exitCode = await runRelay(ctx, listen, targets, flags);
    });
  return addRendezvousFlags(cmd);
}

async function runRelay(
  ctx: CliContext,
  listen: string | undefined,
  targets: string[],
  flags: RelayFlags,
): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const lib = await import('../../relay/index.js');
  const web = webAddress(flags.web);
  if (web !== undefined && listen === undefined && flags.api === undefined) {
    throw new InvalidArgumentError(
      '--web',
      'shows the relay: give a listen endpoint and a target, or --api ADDR, with it',
    );
  }
  if (listen === undefined && flags.api === undefined && flags.rendezvous === undefined) {
    throw new InvalidArgumentError(
      'listen',
      'give a listen endpoint and a target (or --api ADDR for a Toxiproxy-compatible server, --rendezvous ADDR for a rendezvous)',
    );
  }
  if (listen !== undefined && targets.length === 0) {
    throw new InvalidArgumentError('targets', `give at least one target for ${listen}`);
  }
  if (web !== undefined && listen?.toLowerCase().startsWith('udp:')) {
    throw new InvalidArgumentError('--web', 'shows stream relays, not a udp: one');
  }
  if (web !== undefined && (listen === '-' || targets.includes('-'))) {
    throw new InvalidArgumentError(
      '--web',
      'shows a relay that listens; a - endpoint carries one connection',
    );
  }
  const faults = flags.fault.flatMap((f) => lib.parseFaults(f));
  const common = await commonOptions(ctx, flags, faults);
  const dumpMode = flags.dump;
  // With a - endpoint stdout carries the relayed bytes, so everything else goes to stderr.
  const stdioInUse = listen === '-' || targets.includes('-');
  const log = stdioInUse ? new Output({ ...ctx.io, stdout: ctx.io.stderr }, Boolean(flags.json)) : out;
  const dump =
    dumpMode === undefined
      ? undefined
      : (c: DumpChunk) => {
          if (flags.json) log.event('data', { ...lib.dumpEvent(c, dumpMode, dumpOpts(flags)) });
          else
            (stdioInUse ? ctx.io.stderr : ctx.io.stdout).write(
              `${lib.formatDump(c, dumpMode, dumpOpts(flags))}\n`,
            );
        };

  if (listen?.toLowerCase().startsWith('udp:')) {
    if (flags.rendezvous !== undefined)
      throw new InvalidArgumentError('--rendezvous', 'runs beside a stream relay, not a udp: one');
    return runUdp(ctx, log, listen, targets, flags, lib, dump);
  }
  const closers: (() => Promise<void>)[] = [];
  const stop = () =>
    Promise.all(
      closers
        .splice(0)
        .reverse()
        .map((c) => c().catch(() => {})),
    );
  try {
    // With --api or --web every relay lives in one hub, so the API and the page list and change
    // the command line's too.
    const hub =
      flags.api === undefined && web === undefined
        ? undefined
        : new lib.RelayHub({ ...common, ...(dump ? { dump } : {}), signal: undefined } as never);
    if (hub !== undefined) {
      closers.push(() => hub.close());
      watch(log, hub, flags, flags.api !== undefined);
    }
    if (flags.rendezvous !== undefined) {
      const rendezvous = await startRendezvous(log, flags, common, listen === undefined);
      closers.push(() => rendezvous.close());
    }
    if (listen !== undefined) {
      const r = await lib.relay({
        ...common,
        listen,
        targets,
        ...(flags.name !== undefined ? { name: flags.name } : {}),
        ...(dump ? { dump } : {}),
        ...(stdioInUse ? { stdio: lib.stdioDuplex(ctx.io.stdin, ctx.io.stdout) } : {}),
      });
      if (hub !== undefined) hub.adopt(r);
      else {
        closers.push(() => r.close());
        watch(log, r, flags, false);
      }
      log.event(
        'listening',
        { name: r.name, address: r.address, targets, balance: flags.balance },
        `relaying ${r.address} → ${targets.join(', ')}${targets.length > 1 ? ` (${flags.balance})` : ''}${faults.length ? `, ${faults.length} fault${faults.length > 1 ? 's' : ''}` : ''}`,
      );
      if (r.done !== undefined) {
        await Promise.race([r.done, aborted(ctx.io.signal)]);
        await stop();
        return EXIT.OK;
      }
    }
    if (hub !== undefined && flags.api !== undefined) {
      const api = await lib.serveRelayApi(flags.api, { hub });
      closers.push(() => api.close());
      log.event(
        'api',
        { address: api.address, url: `http://${api.address}` },
        `Toxiproxy-compatible API on http://${api.address}`,
      );
    }
    if (hub !== undefined && web !== undefined) {
      const live = await import('../../live/index.js');
      // Beyond loopback the page can change faults for whoever reaches it: a token guards it.
      const token = webToken(web);
      const page = await live.serveRelayLive(web, hub, token !== undefined ? { token } : {});
      closers.push(() => page.close());
      log.event('live', { address: page.address, url: page.url }, `live page ${page.url}`);
    }
    await aborted(ctx.io.signal);
    await stop();
    return EXIT.OK;
  } catch (err) {
    await stop();
    throw tlsFlagError(err, flags);
  }
}

function dumpOpts(flags: RelayFlags): { maxBytes?: number } {
  return flags.dumpMax !== undefined ? { maxBytes: flags.dumpMax } : {};
}

/** commonOptions are the RelayOptions every relay of this command gets (also those made through --api). */
async function commonOptions(
  ctx: CliContext,
  flags: RelayFlags,
  faults: unknown[],
): Promise<Omit<RelayOptions, 'listen' | 'targets'>> {
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new InvalidArgumentError(
      flags.cert === undefined ? '--key' : '--cert',
      '--cert and --key go together (without them a tls: listen side gets an ephemeral certificate)',
    );
  }
  if ((flags.targetCert === undefined) !== (flags.targetKey === undefined)) {
    throw new InvalidArgumentError(
      flags.targetCert === undefined ? '--target-key' : '--target-cert',
      '--target-cert and --target-key go together',
    );
  }
  const pair =
    flags.cert !== undefined && flags.key !== undefined ? await readPair(flags.cert, flags.key) : undefined;
  const clientCa = flags.clientCa !== undefined ? await readClientCa(flags.clientCa) : undefined;
  const targetTls = await tlsFromFlags({
    ...(flags.cacert !== undefined ? { cacert: flags.cacert } : {}),
    ...(flags.insecure ? { insecure: true } : {}),
    ...(flags.servername !== undefined ? { servername: flags.servername } : {}),
    ...(flags.pin !== undefined ? { pin: flags.pin } : {}),
    ...(flags.targetCert !== undefined ? { cert: flags.targetCert } : {}),
    ...(flags.targetKey !== undefined ? { key: flags.targetKey } : {}),
  });
  const proxy = proxyFromFlags(flags);
  void readFileFlag;
  return {
    balance: flags.balance,
    ...(flags.healthCheck !== undefined
      ? { healthCheck: flags.healthCheck === 0 ? false : { interval: flags.healthCheck } }
      : {}),
    ...(flags.sendProxy !== undefined ? { sendProxy: flags.sendProxy } : {}),
    maxConnections: flags.maxConns,
    ...(flags.idleTimeout !== undefined ? { idleTimeout: flags.idleTimeout } : {}),
    connectTimeout: flags.connectTimeout,
    shutdownTimeout: flags.shutdownTimeout,
    maxChildren: flags.maxChildren,
    ...(flags.allowRemoteExec ? { allowRemoteExec: true } : {}),
    network: flags.network,
    ...(flags.socketMode !== undefined ? { socketMode: flags.socketMode } : {}),
    ...(proxy ? { proxy } : {}),
    tls: {
      ...(pair ? { cert: pair.cert, key: pair.key } : { hosts: ephemeralHosts('127.0.0.1:0', false) }),
      ...(clientCa ? { clientCA: clientCa } : {}),
      handshakeTimeout: flags.handshakeTimeout,
    },
    ...(targetTls ? { targetTls } : {}),
    faults,
    signal: ctx.io.signal,
  };
}

/** Watched is a Relay, or a RelayHub (whose events name the relay). */
type Watched = import('node:events').EventEmitter;

/**
 * watch prints connections: one line when each opens, one when it closes
 * (bytes each way, duration, who closed first and how), failures and
 * target changes. Under a hub each line starts with the relay's name.
 */
function watch(log: Output, source: Watched, flags: RelayFlags, named: boolean): void {
  const quiet = Boolean(flags.quiet) && !log.json;
  // biome-ignore lint/suspicious/noExplicitAny: Relay and RelayHub emit the same events, the hub adding the relay.
  const on = (event: string, fn: (e: any, r?: { name: string }) => void) => source.on(event, fn);
  const tag = (r?: { name: string }) => (named && r ? `[${r.name}] ` : '');
  const name = (r?: { name: string }) => (named && r ? { relay: r.name } : {});
  on('open', (o: import('../../relay/index.js').ConnOpen, r) => {
    if (!quiet) log.note('open', { ...o, ...name(r) }, `${tag(r)}#${o.id} ${o.client} → ${o.target}`);
  });
  on('close', (c: ConnSummary, r) => {
    if (!quiet) log.note('close', { ...c, ...name(r) }, `${tag(r)}${closeLine(c)}`);
  });
  on('fail', (f: import('../../relay/index.js').ConnFail, r) =>
    log.note('fail', { ...f, ...name(r) }, `${tag(r)}#${f.id} ${f.client}: ${f.reason} [${f.code}]`),
  );
  on('target', (t: import('../../relay/index.js').TargetChange, r) =>
    log.note(
      'target',
      { ...t, ...name(r) },
      `${tag(r)}target ${t.target} is ${t.up ? 'up' : `down: ${t.reason}`}`,
    ),
  );
}

/** closeLine is the per-connection summary: bytes each way, duration, who closed first and how. */
export function closeLine(s: ConnSummary): string {
  const how = s.how === 'fin' ? 'FIN' : s.how === 'rst' ? 'RST' : 'error';
  const who = s.first === 'relay' ? 'the relay' : s.first;
  return `#${s.id} ${s.client} → ${s.target || '-'}: ↑ ${formatBytes(s.up)} ↓ ${formatBytes(s.down)} in ${formatDuration(s.ms)}, ${who} closed first (${how})${s.reason ? `: ${s.reason}` : ''}`;
}

async function runUdp(
  ctx: CliContext,
  log: Output,
  listen: string,
  targets: string[],
  flags: RelayFlags,
  lib: typeof import('../../relay/index.js'),
  dump: ((c: DumpChunk) => void) | undefined,
): Promise<number> {
  if (targets.length !== 1 || !targets[0]?.toLowerCase().startsWith('udp:')) {
    throw new InvalidArgumentError('targets', 'a udp: listen side relays to one udp: target');
  }
  const r = await lib.relayUdp({
    listen: listen.slice(4),
    target: (targets[0] as string).slice(4),
    ...(flags.idleTimeout !== undefined ? { idleTimeout: flags.idleTimeout } : {}),
    maxClients: flags.maxClients,
    ...(flags.network.startsWith('udp') ? { network: flags.network as 'udp' } : {}),
    ...(dump ? { onDatagram: dump } : {}),
    signal: ctx.io.signal,
  });
  const quiet = Boolean(flags.quiet);
  r.on('open', (o) => {
    if (!quiet || log.json) log.note('open', { ...o }, `#${o.id} ${o.client} → ${targets[0]}`);
  });
  r.on('close', (s) => {
    if (!quiet || log.json)
      log.note(
        'close',
        { ...s },
        `#${s.id} ${s.client}: ↑ ${s.datagramsUp} datagrams (${formatBytes(s.up)}) ↓ ${s.datagramsDown} (${formatBytes(s.down)}) in ${formatDuration(s.ms)}, ${s.reason}`,
      );
  });
  r.on('drop', (d) => log.note('drop', { ...d }, `dropped a datagram from ${d.client}: ${d.reason}`));
  log.event(
    'listening',
    { address: `udp:${r.address}`, targets },
    `relaying udp:${r.address} → ${targets[0]}`,
  );
  await aborted(ctx.io.signal);
  await r.close();
  return EXIT.OK;
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
