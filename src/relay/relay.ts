import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { InvalidArgumentError, type NetkitError } from '../errors.js';
import { endpointText, type Listener, listen } from '../tcp/index.js';
import { type Target, type TargetChange, Targets } from './balance.js';
import { proxyHeader } from './client-header.js';
import type { DumpChunk } from './dump.js';
import { parseEndpoint, type RelayEndpoint, wsListenAddress } from './endpoint.js';
import { ExecSpawner, splitArgv } from './exec.js';
import { faultFlow, refuses } from './faults/index.js';
import { checkTargets, type RelayOptions, type Resolved, resolveRelayOptions } from './options.js';
import { type Peer, peerOf } from './peer.js';
import { Pipe, type PipeHooks, resetSide } from './pipe.js';
import { openTarget } from './sides.js';
import { Toxics } from './toxics.js';
import type { ConnSummary } from './types.js';
import { type WsAcceptor, wsAcceptor } from './ws-listen.js';

/** ConnOpen is emitted once a client is connected to its target. */
export interface ConnOpen {
  /** id numbers connections in the order the relay accepted them, from 1. */
  id: number;
  /** proxy is the relay's name. */
  proxy: string;
  /** client is the client's address as text. */
  client: string;
  /** target is the target the client was connected to. */
  target: string;
}

/** ConnFail is a connection the relay could not carry: no target reachable, refused by a fault or a limit. */
export interface ConnFail {
  /** id numbers connections in the order the relay accepted them, from 1. */
  id: number;
  /** proxy is the relay's name. */
  proxy: string;
  /** client is the client's address as text. */
  client: string;
  /** target is the last target tried, '' when none was. */
  target: string;
  /** code is the error code (NETKIT_DIAL_FAILED, NETKIT_RELAY_LIMIT, NETKIT_RELAY_REFUSED…). */
  code: string;
  /** reason says what happened, in words. */
  reason: string;
}

/** RelayEvents are what a Relay emits. */
export interface RelayEvents {
  /** open: a client is connected to its target. */
  open: [ConnOpen];
  /** close: a relayed connection ended. */
  close: [ConnSummary];
  /** fail: a connection could not be carried. */
  fail: [ConnFail];
  /** target: a target went down or came back. */
  target: [TargetChange];
}

/**
 * Relay carries connections from its listen side to its targets (see
 * relay()). It is also one "proxy" of the Toxiproxy-compatible API: it can
 * be disabled (listener closed, connections dropped), re-enabled, pointed
 * at another upstream, and its faults changed while it runs.
 */
export class Relay extends EventEmitter<RelayEvents> implements AsyncDisposable {
  /** name is the relay's name (Toxiproxy's proxy name). */
  readonly name: string;
  /** toxics are the relay's faults; changing them reaches open connections at their next chunk. */
  readonly toxics = new Toxics();
  #o: Resolved;
  #listen: RelayEndpoint;
  #targets: Targets;
  #listener: Listener | undefined;
  #ws: WsAcceptor | undefined;
  #address = '';
  #enabled = false;
  #closing = false;
  #ids = 0;
  #pipes = new Set<Pipe>();
  #pending = new Set<Duplex>();
  #sweep: NodeJS.Timeout | undefined;
  #spawner: ExecSpawner | undefined;
  #done: Promise<void> | undefined;
  #taps = new Set<(chunk: DumpChunk) => void>();

  /**
   * Relay is made by relay(); its options are already checked.
   *
   * @internal
   */
  constructor(o: Resolved) {
    super();
    this.#o = o;
    this.name = o.name;
    this.#listen = o.listen;
    this.#targets = this.#makeTargets(o.targets);
    for (const f of o.faults) this.toxics.add(f);
    // Open connections that run without the fault engine join it when a fault appears.
    this.toxics.subscribe(() => {
      for (const p of this.#pipes) p.refreshFaults();
    });
  }

  /** address is where clients connect now (`127.0.0.1:8474`, `unix:/run/r.sock`, `ws://…`, `-`). */
  get address(): string {
    return this.#address;
  }
  /** upstream is the targets as Toxiproxy's `upstream` shows them, separated by commas. */
  get upstream(): string {
    return this.#targets.list.map((t) => t.text).join(',');
  }
  /** enabled is false while the relay is disabled: listener closed, connections dropped. */
  get enabled(): boolean {
    return this.#enabled;
  }
  /** connections is how many connections are relayed now. */
  get connections(): number {
    return this.#pipes.size;
  }
  /** targets is each target's state: up or down, and its live connections. */
  get targets(): {
    /** target is the target as given. */
    target: string;
    /** up is false while checks or connections fail. */
    up: boolean;
    /** active counts the connections relayed to it now. */
    active: number;
    /** reason says why it is down. */
    reason: string;
  }[] {
    return this.#targets.list.map((t) => ({ target: t.text, up: t.up, active: t.active, reason: t.reason }));
  }
  /** done resolves when a `-` (stdio) relay's one connection has ended. */
  get done(): Promise<void> | undefined {
    return this.#done;
  }

  /**
   * tap calls `fn` with every chunk of the connections accepted from now
   * on, as read and before any fault (as the `dump` option sees them), until
   * the function it returns is called. `fn` must not keep `bytes` beyond
   * the call without copying it. Connections accepted while no tap is set
   * cost nothing per chunk.
   */
  tap(fn: (chunk: DumpChunk) => void): () => void {
    this.#taps.add(fn);
    return () => {
      this.#taps.delete(fn);
    };
  }

  /** start binds the listen side; relay() calls it. */
  async start(): Promise<void> {
    if (this.#enabled) return;
    const ep = this.#listen;
    const o = this.#o;
    if (ep.kind === 'stdio') {
      this.#address = '-';
      this.#enabled = true;
      const stdio = o.stdio as Duplex;
      this.#done = new Promise((resolve) =>
        this.once('close', () => resolve()).once('fail', () => resolve()),
      );
      void this.#admit(stdio, { text: 'stdin', local: true });
      return;
    }
    const bindAt =
      ep.kind === 'ws'
        ? wsListenAddress(ep.url)
        : ep.kind === 'unix'
          ? `unix:${ep.path}`
          : (ep as { address: string }).address;
    const listener = await listen(bindAt, {
      ...(o.network !== undefined ? { network: o.network } : {}),
      ...(o.socketMode !== undefined ? { socketMode: o.socketMode } : {}),
      ...(o.proxy !== undefined ? { proxy: o.proxy } : {}),
      ...(ep.kind === 'tls' || (ep.kind === 'ws' && ep.secure) ? { tls: o.tls ?? true } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    this.#listener = listener;
    const bound = endpointText(listener.addr);
    this.#address =
      ep.kind === 'ws'
        ? `${ep.secure ? 'wss' : 'ws'}://${bound}${ep.url.pathname}`
        : listener.addr.network === 'unix'
          ? `unix:${ep.kind === 'unix' ? ep.path : bound}`
          : bound;
    if (ep.kind === 'ws') {
      this.#ws = wsAcceptor(ep.url.pathname, o.maxPayload, o.headersTimeout, (stream, socket) =>
        this.#accepted(stream, socket),
      );
    }
    this.#enabled = true;
    if (o.idleTimeout > 0) this.#startSweep();
    if (o.health !== undefined) this.#targets.startChecks(o.health);
    void this.#acceptLoop(listener);
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    for (;;) {
      let socket: net.Socket;
      try {
        socket = await listener.acceptSocket();
      } catch {
        return; // closed
      }
      if (this.#ws !== undefined) this.#ws.feed(socket);
      else this.#accepted(socket, socket);
    }
  }

  #accepted(stream: Duplex, socket: net.Socket): void {
    void this.#admit(stream, peerOf(socket, this.#listener?.addr.network === 'unix'));
  }

  /** admit carries one client: limits and refusals, a target, then the pipe. */
  async #admit(client: Duplex, peer: Peer): Promise<void> {
    const id = ++this.#ids;
    const o = this.#o;
    const fail = (code: string, reason: string, target = '', rst = false) => {
      this.emit('fail', { id, proxy: this.name, client: peer.text, target, code, reason });
      if (rst) resetSide(client);
      else client.destroy();
    };
    client.on('error', () => {});
    if (this.#closing) return fail('NETKIT_LISTENER_CLOSED', 'the relay is closing');
    if (this.#pipes.size + this.#pending.size >= o.maxConnections) {
      return fail(
        'NETKIT_RELAY_LIMIT',
        `${o.maxConnections} connections are relayed already (maxConnections, --max-conns)`,
        '',
        true,
      );
    }
    if (refuses(this.toxics.all())) return fail('NETKIT_RELAY_REFUSED', 'refused by a fault', '', true);
    let preface: Buffer | undefined;
    try {
      // Built once, outside the loop: a client the header cannot describe must not look like a dead target.
      preface = o.sendProxy !== undefined ? proxyHeader(o.sendProxy, peer) : undefined;
    } catch (err) {
      return fail('NETKIT_PROXY_HEADER', `PROXY header for ${peer.text}: ${(err as Error).message}`);
    }
    this.#pending.add(client);
    let target: Duplex | undefined;
    let chosen: Target | undefined;
    let lastErr: NetkitError | undefined;
    for (const t of this.#targets.order()) {
      if (t.endpoint.kind === 'exec' && !peer.local && !o.allowRemoteExec) {
        lastErr = new InvalidArgumentError(
          'exec',
          `exec: refused for ${peer.text}: not a loopback client (allowRemoteExec is off)`,
        );
        break;
      }
      try {
        target = await openTarget(t.endpoint, {
          timeout: o.connectTimeout,
          tls: o.targetTls,
          preface,
          spawner: this.#spawner,
          stdio: o.stdio,
        });
        chosen = t;
        this.#targets.succeeded(t);
        break;
      } catch (err) {
        lastErr = err as NetkitError;
        this.#targets.failed(t, (err as Error).message);
      }
    }
    this.#pending.delete(client);
    if (target === undefined || chosen === undefined) {
      return fail(lastErr?.code ?? 'NETKIT_DIAL_FAILED', lastErr?.message ?? 'no target', this.upstream);
    }
    if (this.#closing || client.destroyed) {
      target.destroy();
      if (!client.destroyed) client.destroy();
      if (this.#closing) return;
    }
    target.on('error', () => {});
    // node:tls makes its sockets end their writing side when the peer's close_notify comes;
    // a relay must keep the other direction open (TLS 1.3 allows writing after it, as TCP does).
    halfOpen(client);
    halfOpen(target);
    const t = chosen;
    t.active++;
    const hooks: PipeHooks = {};
    if (this.#taps.size > 0) {
      const dump = o.dump;
      const taps = this.#taps;
      hooks.tap = (stream, offset, bytes) => {
        const chunk = { id, stream, offset, time: Date.now(), bytes };
        dump?.(chunk);
        for (const fn of taps) fn(chunk);
      };
    } else if (o.dump !== undefined) {
      const dump = o.dump;
      hooks.tap = (stream, offset, bytes) => dump({ id, stream, offset, time: Date.now(), bytes });
    }
    const toxics = this.toxics;
    hooks.faults = (stream, next, control) =>
      toxics.list(stream).length > 0 ? faultFlow(stream, toxics, next, control) : undefined;
    const pipe = new Pipe(
      {
        id,
        proxy: this.name,
        client,
        clientText: peer.text,
        target,
        targetText: t.text,
        started: Date.now(),
      },
      hooks,
      (summary) => {
        t.active--;
        this.#pipes.delete(pipe);
        this.emit('close', summary);
      },
    );
    this.#pipes.add(pipe);
    this.emit('open', { id, proxy: this.name, client: peer.text, target: t.text });
  }

  #startSweep(): void {
    const idle = this.#o.idleTimeout;
    const seen = new WeakMap<Pipe, { bytes: number; at: number }>();
    // One timer for every connection: 1,000 idle sockets cost one sweep, not 1,000 timers re-armed per chunk.
    this.#sweep = setInterval(
      () => {
        const now = Date.now();
        for (const p of this.#pipes) {
          const last = seen.get(p);
          const bytes = p.idleBytes;
          if (last === undefined || last.bytes !== bytes) seen.set(p, { bytes, at: now });
          else if (now - last.at >= idle) p.close(`idle for ${idle} ms (idleTimeout)`);
        }
      },
      Math.max(10, Math.min(1000, Math.floor(idle / 4))),
    );
    this.#sweep.unref();
  }

  /** setUpstream points new connections at other targets; open ones keep theirs (Toxiproxy's `upstream`). */
  setUpstream(targets: readonly string[]): void {
    const eps = checkTargets(targets);
    const next = this.#makeTargets(eps);
    this.#targets.stopChecks();
    this.#targets = next;
    if (this.#enabled && this.#o.health !== undefined) next.startChecks(this.#o.health);
  }

  /** disable closes the listener and drops every connection (Toxiproxy's `enabled: false`). */
  async disable(): Promise<void> {
    if (!this.#enabled) return;
    this.#enabled = false;
    await this.#stopListening();
    for (const p of this.#pipes) p.close('relay disabled');
  }

  /** enable binds the listen side again, on the address it had. */
  async enable(): Promise<void> {
    if (this.#enabled || this.#closing) return;
    if (this.#address !== '' && this.#listen.kind === 'tcp')
      this.#listen = parseEndpoint(this.#address, 'listen');
    await this.start();
  }

  /** setListen moves the relay to another listen address (Toxiproxy's `listen`). */
  async setListen(text: string): Promise<void> {
    const ep = parseEndpoint(text, 'listen');
    const was = this.#enabled;
    if (was) await this.#stopListening();
    this.#enabled = false;
    this.#listen = ep;
    this.#address = '';
    if (was) await this.start();
  }

  /** close stops accepting, lets connections finish within shutdownTimeout, then destroys the rest. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#stopListening();
    for (const c of this.#pending) c.destroy();
    if (this.#pipes.size > 0 && this.#o.shutdownTimeout > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.shutdownTimeout);
        const check = () => {
          if (this.#pipes.size === 0) {
            clearTimeout(timer);
            this.off('close', check);
            resolve();
          }
        };
        this.on('close', check);
      });
    }
    this.destroy();
  }

  /** destroy drops every connection and frees the address now. */
  destroy(): void {
    this.#closing = true;
    void this.#stopListening();
    for (const c of this.#pending) c.destroy();
    for (const p of this.#pipes) p.close('relay closed');
  }

  /** [Symbol.asyncDispose] runs close(), so `await using` stops the relay at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #stopListening(): Promise<void> {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    this.#targets.stopChecks();
    this.#ws?.close();
    this.#ws = undefined;
    const l = this.#listener;
    this.#listener = undefined;
    await l?.close();
  }

  #makeTargets(eps: readonly RelayEndpoint[]): Targets {
    const targets = new Targets(eps, this.#o.balance);
    targets.on('change', (c) => this.emit('target', c));
    if (eps.some((e) => e.kind === 'exec')) {
      const exec = eps.find((e) => e.kind === 'exec') as { command: string };
      this.#spawner = new ExecSpawner(splitArgv(exec.command), { maxChildren: this.#o.maxChildren });
    }
    return targets;
  }
}

function halfOpen(side: Duplex): void {
  (side as Duplex & { allowHalfOpen: boolean }).allowHalfOpen = true;
}

/**
 * relay binds `listen` and carries every client to one of `targets`,
 * faithfully (half-close both ways, RST mirrored, bounded buffering; see
 * Pipe), with optional balancing and health checks, PROXY headers, faults
 * and a per-chunk dump. Resolves once listening. Options are checked
 * first; a bad one throws NETKIT_INVALID_ARGUMENT naming it.
 */
export async function relay(options: RelayOptions): Promise<Relay> {
  const r = new Relay(resolveRelayOptions(options));
  await r.start();
  options.signal?.addEventListener('abort', () => void r.close(), { once: true });
  return r;
}
