import type { Duplex } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import { checkInt, checkMs, checkOneOf, checkSignal } from '../internal/validate.js';
import type { ProxyOptions } from '../proxy/accept.js';
import type { TlsClientOptions } from '../tls/client.js';
import type { TlsServerOptions } from '../tls/server.js';
import { type Balance, HEALTH_DEFAULTS, type HealthCheck } from './balance.js';
import type { SendProxy } from './client-header.js';
import type { DumpChunk } from './dump.js';
import { parseEndpoint, type RelayEndpoint, wsListenAddress } from './endpoint.js';
import { isLoopback } from './peer.js';

/** RelayOptions configure relay(). Durations are milliseconds; 0 means none. */
export interface RelayOptions {
  /** listen is where clients connect: `HOST:PORT`, `tls:HOST:PORT`, `unix:PATH`, `ws://HOST:PORT/PATH`, `wss://…` or `-` (stdio). */
  listen: string;
  /** targets are where connections go: the same forms, plus `exec:COMMAND`; several are balanced. */
  targets: readonly string[];
  /** name identifies the relay in events and in the Toxiproxy API (default: the listen text). */
  name?: string;
  /** balance picks a target per connection when there are several. Default round-robin. */
  balance?: Balance;
  /** healthCheck runs TCP-connect checks on tcp:/tls: targets; on by default with several targets. */
  healthCheck?: Partial<HealthCheck> | boolean;
  /** sendProxy writes a PROXY header (v1 text, v2 binary) to each target naming the real client. */
  sendProxy?: SendProxy;
  /** maxConnections caps relayed connections; past it new clients are reset at once. Default 10,000. */
  maxConnections?: number;
  /** idleTimeout closes a connection with no bytes either way for this long. Default none. */
  idleTimeout?: number;
  /** connectTimeout bounds connecting to a target (and its TLS or WebSocket handshake). Default 10 s. */
  connectTimeout?: number;
  /** shutdownTimeout is how long close() lets connections finish before destroying them. Default 5 s. */
  shutdownTimeout?: number;
  /** network, socketMode, proxy and tls are the listen side's, as for every netkit server. */
  network?: string;
  /** socketMode sets a Unix socket's file mode (`0o660`). */
  socketMode?: number;
  /** proxy reads a PROXY protocol header from trusted peers on the listen side. */
  proxy?: ProxyOptions;
  /** tls is the certificate of a tls: or wss:// listen side (`true`: an ephemeral one). */
  tls?: TlsServerOptions | boolean;
  /** targetTls checks tls: and wss:// targets (CA, pin, insecure, client certificate). */
  targetTls?: TlsClientOptions;
  /** faults are Toxiproxy toxics (`{ type, stream, toxicity, attributes }`) applied from the start. */
  faults?: readonly unknown[];
  /** maxChildren caps concurrent exec: programs. Default 16. */
  maxChildren?: number;
  /** allowRemoteExec lets exec: serve clients that are not on loopback. Off by default: it is a remote shell. */
  allowRemoteExec?: boolean;
  /** maxPayload bounds one WebSocket message on a ws:// listen side. Default 16 MiB. */
  maxPayload?: number;
  /** headersTimeout closes a ws:// listen side's connection whose upgrade request is not complete in time. Default 10 s. */
  headersTimeout?: number;
  /** stdio is the stream `-` stands for (the CLI passes stdin/stdout). */
  stdio?: Duplex;
  /** dump sees every chunk both ways (for --dump); without it nothing runs per chunk. */
  dump?: (chunk: DumpChunk) => void;
  /** signal closes the relay (as close()) when aborted. */
  signal?: AbortSignal;
}

/** RELAY_DEFAULTS are relay()'s defaults. */
export const RELAY_DEFAULTS = Object.freeze({
  /** round-robin: each new connection goes to the next target that is up. */
  balance: 'round-robin' as Balance,
  /** Beyond it a new client is reset (NETKIT_RELAY_LIMIT). */
  maxConnections: 10_000,
  /** 0: an idle connection is never closed for being idle. */
  idleTimeout: 0,
  /** 10 s to connect to a target. */
  connectTimeout: 10_000,
  /** close() lets connections finish for 5 s. */
  shutdownTimeout: 5_000,
  /** exec: programs at once; a flood of connections cannot fork without bound. */
  maxChildren: 16,
  /** 16 MiB per WebSocket message. */
  maxPayload: 16 * 1024 * 1024,
  /** A WebSocket client must complete its upgrade within 10 s. */
  headersTimeout: 10_000,
});

/** Resolved are checked RelayOptions. */
export interface Resolved {
  name: string;
  listen: RelayEndpoint;
  targets: RelayEndpoint[];
  balance: Balance;
  health: HealthCheck | undefined;
  sendProxy: SendProxy | undefined;
  maxConnections: number;
  idleTimeout: number;
  connectTimeout: number;
  shutdownTimeout: number;
  network: string | undefined;
  socketMode: number | undefined;
  proxy: ProxyOptions | undefined;
  tls: TlsServerOptions | boolean | undefined;
  targetTls: TlsClientOptions | undefined;
  faults: readonly unknown[];
  maxChildren: number;
  allowRemoteExec: boolean;
  maxPayload: number;
  headersTimeout: number;
  stdio: Duplex | undefined;
  dump: ((chunk: DumpChunk) => void) | undefined;
  signal: AbortSignal | undefined;
}

export function checkTargets(targets: unknown): RelayEndpoint[] {
  if (!Array.isArray(targets) || targets.length === 0) {
    throw new InvalidArgumentError(
      'targets',
      'needs at least one target (HOST:PORT, tls:, ws://, unix:, exec: or -)',
    );
  }
  const eps = targets.map((t, i) => parseEndpoint(t as string, 'target', `targets[${i}]`));
  if (eps.some((e) => e.kind === 'udp')) {
    throw new InvalidArgumentError('targets', 'udp: targets go with a udp: listen address (relayUdp)');
  }
  if (eps.length > 1 && eps.some((e) => e.kind === 'stdio' || e.kind === 'exec')) {
    throw new InvalidArgumentError('targets', '- and exec: cannot be balanced with other targets; give one');
  }
  return eps;
}

/** resolveRelayOptions checks every option up front, each failure naming the option. */
export function resolveRelayOptions(o: RelayOptions): Resolved {
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  const listenEp = parseEndpoint(o.listen, 'listen');
  if (listenEp.kind === 'udp') throw new InvalidArgumentError('listen', 'udp: relays are made with relayUdp');
  const targets = checkTargets(o.targets);
  const balance = checkOneOf('balance', o.balance ?? RELAY_DEFAULTS.balance, ['round-robin', 'least-conns']);
  const sendProxy =
    o.sendProxy === undefined ? undefined : checkOneOf('sendProxy', o.sendProxy, ['v1', 'v2']);
  if (
    sendProxy !== undefined &&
    targets.some((t) => t.kind === 'ws' || t.kind === 'stdio' || t.kind === 'exec')
  ) {
    throw new InvalidArgumentError('sendProxy', 'a PROXY header goes to tcp:, tls: and unix: targets only');
  }
  const hc = o.healthCheck;
  let health: HealthCheck | undefined;
  if (hc === true || (hc === undefined && targets.length > 1) || (typeof hc === 'object' && hc !== null)) {
    const h = typeof hc === 'object' && hc !== null ? hc : {};
    health = {
      interval:
        checkMs('healthCheck.interval', h.interval ?? HEALTH_DEFAULTS.interval) || HEALTH_DEFAULTS.interval,
      timeout:
        checkMs('healthCheck.timeout', h.timeout ?? HEALTH_DEFAULTS.timeout) || HEALTH_DEFAULTS.timeout,
      fall: checkInt('healthCheck.fall', h.fall ?? HEALTH_DEFAULTS.fall, 1, 100),
      rise: checkInt('healthCheck.rise', h.rise ?? HEALTH_DEFAULTS.rise, 1, 100),
    };
  } else if (hc !== undefined && hc !== false) {
    throw new InvalidArgumentError('healthCheck', 'must be a boolean or { interval, timeout, fall, rise }');
  }
  const stdioUsed = listenEp.kind === 'stdio' || targets.some((t) => t.kind === 'stdio');
  if (stdioUsed && o.stdio === undefined)
    throw new InvalidArgumentError('stdio', 'is needed for a - endpoint');
  if (listenEp.kind === 'stdio' && targets.some((t) => t.kind === 'stdio')) {
    throw new InvalidArgumentError('targets', '- cannot be relayed to itself');
  }
  const allowRemoteExec = o.allowRemoteExec === true;
  if (targets.some((t) => t.kind === 'exec') && !allowRemoteExec && !listenIsLocal(listenEp)) {
    throw new InvalidArgumentError(
      'allowRemoteExec',
      `exec: would run a program for every client of ${listenEp.text}, which is not a loopback address; listen on 127.0.0.1 or allow it explicitly (--allow-remote-exec)`,
    );
  }
  const faults = o.faults ?? [];
  if (!Array.isArray(faults)) throw new InvalidArgumentError('faults', 'must be an array of toxics');
  return {
    name: o.name ?? listenEp.text,
    listen: listenEp,
    targets,
    balance,
    health,
    sendProxy,
    maxConnections: checkInt(
      'maxConnections',
      o.maxConnections ?? RELAY_DEFAULTS.maxConnections,
      1,
      1_000_000,
    ),
    idleTimeout: checkMs('idleTimeout', o.idleTimeout ?? RELAY_DEFAULTS.idleTimeout),
    connectTimeout: checkMs('connectTimeout', o.connectTimeout ?? RELAY_DEFAULTS.connectTimeout),
    shutdownTimeout: checkMs('shutdownTimeout', o.shutdownTimeout ?? RELAY_DEFAULTS.shutdownTimeout),
    network: o.network,
    socketMode: o.socketMode,
    proxy: o.proxy,
    tls: o.tls,
    targetTls: o.targetTls,
    faults,
    maxChildren: checkInt('maxChildren', o.maxChildren ?? RELAY_DEFAULTS.maxChildren, 1, 10_000),
    allowRemoteExec,
    maxPayload: checkInt('maxPayload', o.maxPayload ?? RELAY_DEFAULTS.maxPayload, 1, 2 ** 31 - 1),
    headersTimeout: checkMs('headersTimeout', o.headersTimeout ?? RELAY_DEFAULTS.headersTimeout),
    stdio: o.stdio,
    dump: o.dump,
    signal: checkSignal(o.signal),
  };
}

function listenIsLocal(ep: RelayEndpoint): boolean {
  if (ep.kind === 'unix' || ep.kind === 'stdio') return true;
  const address = ep.kind === 'ws' ? wsListenAddress(ep.url) : (ep as { address: string }).address;
  return isLoopback(address);
}
