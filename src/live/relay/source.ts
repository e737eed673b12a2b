/**
 * The data behind `netkit relay --web`: every proxy of a RelayHub, its
 * connections as they open, move bytes and close, and the last bytes of
 * each connection for the traffic view, as a LiveSource for serveLive().
 */
import { Fifo } from '../../internal/fifo.js';
import { checkInt } from '../../internal/validate.js';
import { type ProxyJson, proxyJson } from '../../relay/api.js';
import { type DumpChunk, type DumpMode, formatDump } from '../../relay/dump.js';
import type { RelayHub } from '../../relay/hub.js';
import type { ConnOpen, Relay } from '../../relay/relay.js';
import type { CloseKind, Closer, ConnSummary, Stream } from '../../relay/types.js';
import type { LiveSource } from '../server.js';

/** RelayLiveOptions bound what the source keeps and how often it reports bytes. */
export interface RelayLiveOptions {
  /** maxTrafficBytes is how many of a connection's latest bytes (both ways) are kept for its traffic view. Default 64 KiB. */
  maxTrafficBytes?: number;
  /** maxTrafficChunks is how many of a connection's latest chunks are kept. Default 1024. */
  maxTrafficChunks?: number;
  /**
   * maxTotalTrafficBytes caps the traffic kept for all connections together
   * (each chunk counted 64 bytes over its length); the connections that
   * moved bytes least recently lose theirs first. Default 16 MiB.
   */
  maxTotalTrafficBytes?: number;
  /** maxClosed is how many closed connections are remembered. Default 200. */
  maxClosed?: number;
  /** bytesInterval is how often, in ms, changed byte counts are pushed: at most one event per interval for all connections. Default 250. */
  bytesInterval?: number;
}

/** RELAY_LIVE_DEFAULTS are RelayLiveSource's defaults. */
export const RELAY_LIVE_DEFAULTS = Object.freeze({
  /** maxTrafficBytes: the last 64 KiB of each connection's traffic are kept. */
  maxTrafficBytes: 64 * 1024,
  /** maxTrafficChunks: at most 1,024 chunks of each connection are kept. */
  maxTrafficChunks: 1024,
  /** maxTotalTrafficBytes: 16 MiB of traffic kept in all. */
  maxTotalTrafficBytes: 16 * 1024 * 1024,
  /** maxClosed: the last 200 closed connections are remembered. */
  maxClosed: 200,
  /** bytesInterval: byte counts go to the page every 250 ms. */
  bytesInterval: 250,
});

/** ClosedView says how a connection ended. */
export interface ClosedView {
  /** first is who closed first. */
  first: Closer;
  /** how is how that side closed: FIN, RST or another error. */
  how: CloseKind;
  /** reason is set when the relay closed it or a side failed. */
  reason?: string;
  /** ms is how long the connection lasted. */
  ms: number;
}

/** ConnView is one connection as the page gets it. */
export interface ConnView {
  /** key identifies the connection on this page, across proxies. */
  key: number;
  /** proxy is the proxy's name. */
  proxy: string;
  /** id is the connection's number on its proxy, as the relay's log lines show it. */
  id: number;
  /** client is the peer that connected to the proxy. */
  client: string;
  /** target is where the proxy connected it. */
  target: string;
  /** up is the bytes from the client. */
  up: number;
  /** down is the bytes from the target. */
  down: number;
  /** age is how long ago it opened, in ms, when the view was made. */
  age: number;
  /** closed is set once it ended. */
  closed?: ClosedView;
}

/** RelaySnapshot is the whole state: every proxy and the connections remembered. */
export interface RelaySnapshot {
  /** proxies are the hub's proxies as the Toxiproxy API shows them, faults included. */
  proxies: ProxyJson[];
  /** conns are the open connections and the closed ones remembered. */
  conns: ConnView[];
  /** maxClosed is how many closed connections are remembered. */
  maxClosed: number;
}

/** TrafficView is a connection's kept chunks after a point, rendered as `--dump` shows them. */
export interface TrafficView {
  /** key is the connection's key (ConnView.key). */
  key: number;
  /** mode is how the chunks are shown: `text` (escaped) or `hex`, as `--dump`. */
  mode: DumpMode;
  /** first is the oldest chunk still kept (older ones were dropped); the page drops those before it too. */
  first: number;
  /** next is what to ask `after` next time. */
  next: number;
  /** gap is true when chunks after `after` were dropped before they could be sent. */
  gap: boolean;
  /** closed is true once the connection ended: no more chunks will come. */
  closed: boolean;
  /** chunks are the kept chunks after `after`, oldest first. */
  chunks: {
    /** seq is the chunk's number on its connection. */
    seq: number;
    /** stream is its direction: `upstream` (from the client) or `downstream`. */
    stream: Stream;
    /** length is its size in bytes. */
    length: number;
    /** head is the `--dump` header line of the chunk. */
    head: string;
    /** body is the chunk as `--dump` shows it, escaped text or hex. */
    body: string;
  }[];
}

/**
 * CHUNK_COST is what a kept chunk costs besides its bytes (the object, the
 * buffer's own allocation), counted against maxTotalTrafficBytes so that a
 * flood of one-byte chunks is bounded as well as a few large ones.
 */
const CHUNK_COST = 64;

interface Chunk {
  seq: number;
  stream: Stream;
  offset: number;
  time: number;
  bytes: Buffer;
}

interface Conn {
  key: number;
  relay: Relay;
  open: ConnOpen;
  opened: number;
  up: number;
  down: number;
  closed?: ClosedView;
  /** chunks are the latest bytes each way, oldest first: a queue, dropped from the front as new ones come. */
  chunks: Fifo<Chunk>;
  stored: number;
  seq: number;
}

/**
 * RelayLiveSource watches a RelayHub for a live page. It taps every
 * proxy's chunks from the moment it is made (so a page opened later still
 * sees what a connection sent first) but keeps only the latest bytes of
 * each connection, and a bounded number of closed ones; rendering them is
 * left to the moment a page asks. Byte counts go out batched, at most one
 * event per bytesInterval, however fast the chunks come.
 */
export class RelayLiveSource implements LiveSource {
  readonly #hub: RelayHub;
  readonly #o: Required<RelayLiveOptions>;
  readonly #open = new Map<Relay, Map<number, Conn>>();
  readonly #byKey = new Map<number, Conn>();
  /** #closed is closed connections, oldest first. */
  readonly #closed: Conn[] = [];
  /** #recent orders connections with traffic kept by their last chunk, least recent first. */
  readonly #recent = new Map<number, Conn>();
  readonly #detach = new Map<Relay, () => void>();
  readonly #pushes = new Set<(event: string, data: unknown) => void>();
  readonly #dirty = new Set<Conn>();
  readonly #off: (() => void)[] = [];
  #total = 0;
  #keys = 0;
  #timer: NodeJS.Timeout | undefined;

  /** RelayLiveSource starts watching `hub` and the proxies it has now; options are checked here. */
  constructor(hub: RelayHub, options: RelayLiveOptions = {}) {
    this.#hub = hub;
    const d = RELAY_LIVE_DEFAULTS;
    const int = (name: keyof RelayLiveOptions, min: number) =>
      checkInt(name, options[name] ?? d[name], min, 2 ** 31 - 1);
    this.#o = {
      maxTrafficBytes: int('maxTrafficBytes', 1),
      maxTrafficChunks: int('maxTrafficChunks', 1),
      maxTotalTrafficBytes: int('maxTotalTrafficBytes', 1),
      maxClosed: int('maxClosed', 0),
      bytesInterval: int('bytesInterval', 10),
    };
    for (const r of hub.list()) this.#watch(r);
    const on = <E extends 'add' | 'remove' | 'update' | 'open' | 'close'>(
      event: E,
      // biome-ignore lint/suspicious/noExplicitAny: each handler takes its event's arguments.
      fn: (...args: any[]) => void,
    ) => {
      hub.on(event, fn as never);
      this.#off.push(() => hub.off(event, fn as never));
    };
    on('add', (r: Relay) => {
      this.#watch(r);
      this.#proxyChanged(r);
    });
    on('remove', (r: Relay) => {
      this.#detach.get(r)?.();
      this.#detach.delete(r);
      // The hub stops forwarding a removed proxy's events; its connections end with it.
      for (const c of [...(this.#open.get(r)?.values() ?? [])]) {
        const s = { id: c.open.id, up: c.up, down: c.down, ms: Date.now() - c.opened };
        this.#ended({ ...c.open, ...s, first: 'relay', how: 'fin', reason: 'proxy removed' }, r);
      }
      this.#emit('proxy-removed', { name: r.name });
    });
    on('update', (r: Relay) => this.#proxyChanged(r));
    on('open', (o: ConnOpen, r: Relay) => this.#opened(o, r));
    on('close', (s: ConnSummary, r: Relay) => this.#ended(s, r));
  }

  /** snapshot is every proxy and every connection remembered, open ones first. */
  snapshot(): RelaySnapshot {
    const now = Date.now();
    const conns: ConnView[] = [];
    for (const m of this.#open.values()) for (const c of m.values()) conns.push(view(c, now));
    for (const c of this.#closed) conns.push(view(c, now));
    return {
      proxies: this.#hub.list().map((r) => proxyJson(this.#hub, r)),
      conns,
      maxClosed: this.#o.maxClosed,
    };
  }

  /** subscribe sends every change to `push` until the returned function is called. */
  subscribe(push: (event: string, data: unknown) => void): () => void {
    this.#pushes.add(push);
    return () => {
      this.#pushes.delete(push);
      if (this.#pushes.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        this.#dirty.clear();
      }
    };
  }

  /**
   * traffic renders connection `key`'s chunks after `after` (a `next` from
   * a previous call, 0 for all) with formatDump, or undefined for a
   * connection not remembered.
   */
  traffic(key: number, mode: DumpMode, after = 0): TrafficView | undefined {
    const c = this.#byKey.get(key);
    if (c === undefined) return undefined;
    const first = c.chunks.peek()?.seq ?? c.seq + 1;
    const chunks = [];
    for (const k of c.chunks) {
      if (k.seq <= after) continue;
      const text = formatDump({ id: c.open.id, ...k }, mode);
      const nl = text.indexOf('\n');
      chunks.push({
        seq: k.seq,
        stream: k.stream,
        length: k.bytes.length,
        head: nl < 0 ? text : text.slice(0, nl),
        body: nl < 0 ? '' : text.slice(nl + 1),
      });
    }
    return { key, mode, first, next: c.seq, gap: after + 1 < first, closed: c.closed !== undefined, chunks };
  }

  /** close stops watching the hub; the proxies keep running. */
  close(): void {
    for (const off of this.#off.splice(0)) off();
    for (const detach of this.#detach.values()) detach();
    this.#detach.clear();
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#pushes.clear();
  }

  #watch(r: Relay): void {
    if (this.#detach.has(r)) return;
    const untap = r.tap((chunk) => this.#chunk(r, chunk));
    const unsubscribe = r.toxics.subscribe(() => this.#proxyChanged(r));
    this.#detach.set(r, () => {
      untap();
      unsubscribe();
    });
  }

  #proxyChanged(r: Relay): void {
    if (this.#pushes.size === 0 || !this.#detach.has(r)) return;
    this.#emit('proxy', proxyJson(this.#hub, r));
  }

  #opened(o: ConnOpen, r: Relay): void {
    let m = this.#open.get(r);
    if (m === undefined) {
      m = new Map();
      this.#open.set(r, m);
    }
    const c: Conn = {
      key: ++this.#keys,
      relay: r,
      open: o,
      opened: Date.now(),
      up: 0,
      down: 0,
      chunks: new Fifo(),
      stored: 0,
      seq: 0,
    };
    m.set(o.id, c);
    this.#byKey.set(c.key, c);
    this.#emit('opened', view(c, c.opened));
  }

  #ended(s: ConnSummary, r: Relay): void {
    const m = this.#open.get(r);
    const c = m?.get(s.id);
    if (m === undefined || c === undefined) return;
    m.delete(s.id);
    if (m.size === 0) this.#open.delete(r);
    this.#dirty.delete(c);
    c.up = s.up;
    c.down = s.down;
    c.closed = {
      first: s.first,
      how: s.how,
      ms: s.ms,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
    };
    this.#closed.push(c);
    while (this.#closed.length > this.#o.maxClosed) this.#forget(this.#closed.shift() as Conn);
    this.#emit('closed', { key: c.key, up: c.up, down: c.down, closed: c.closed });
  }

  #forget(c: Conn): void {
    this.#byKey.delete(c.key);
    this.#recent.delete(c.key);
    this.#drop(c);
  }

  /** #chunk counts a chunk and keeps a copy of its latest bytes; it runs once per chunk relayed. */
  #chunk(r: Relay, k: DumpChunk): void {
    const c = this.#open.get(r)?.get(k.id);
    if (c === undefined) return;
    const end = k.offset + k.bytes.length;
    if (k.stream === 'upstream') c.up = end;
    else c.down = end;
    if (this.#pushes.size > 0) {
      this.#dirty.add(c);
      this.#timer ??= setInterval(() => this.#flushBytes(), this.#o.bytesInterval).unref();
    }
    const o = this.#o;
    const max = Math.min(o.maxTrafficBytes, o.maxTotalTrafficBytes);
    // A copy of only what will be kept, in memory of its own: the read buffer may be a slice
    // of a larger one, and a small copy from Node's shared pool would pin a whole 8 KiB slab.
    const src = k.bytes.subarray(Math.max(0, k.bytes.length - max));
    const bytes = Buffer.allocUnsafeSlow(src.length);
    src.copy(bytes);
    const offset = k.offset + k.bytes.length - src.length;
    c.chunks.push({ seq: ++c.seq, stream: k.stream, offset, time: k.time, bytes });
    c.stored += bytes.length;
    this.#total += bytes.length + CHUNK_COST;
    while (c.stored > max || c.chunks.length > o.maxTrafficChunks) {
      const old = c.chunks.shift() as Chunk;
      c.stored -= old.bytes.length;
      this.#total -= old.bytes.length + CHUNK_COST;
    }
    this.#recent.delete(c.key);
    this.#recent.set(c.key, c);
    // Past the total, the connections that moved bytes least recently lose their traffic first.
    for (const [key, old] of this.#recent) {
      if (this.#total <= o.maxTotalTrafficBytes || old === c) break;
      this.#recent.delete(key);
      this.#drop(old);
    }
  }

  /** #drop lets go of a connection's traffic. */
  #drop(c: Conn): void {
    this.#total -= c.stored + c.chunks.length * CHUNK_COST;
    c.chunks = new Fifo();
    c.stored = 0;
  }

  #flushBytes(): void {
    if (this.#dirty.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const conns = [...this.#dirty].map((c) => [c.key, c.up, c.down]);
    this.#dirty.clear();
    this.#emit('bytes', { conns });
  }

  #emit(event: string, data: unknown): void {
    for (const push of this.#pushes) push(event, data);
  }
}

function view(c: Conn, now: number): ConnView {
  return {
    key: c.key,
    proxy: c.open.proxy,
    id: c.open.id,
    client: c.open.client,
    target: c.open.target,
    up: c.up,
    down: c.down,
    age: now - c.opened,
    ...(c.closed !== undefined ? { closed: c.closed } : {}),
  };
}
