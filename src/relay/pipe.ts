import type { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';
import { resetSocket } from '../internal/reset.js';
import type { CloseKind, Closer, ConnControl, ConnSummary, Flow, Stream } from './types.js';

/** PipeHooks are the optional per-chunk work of a connection: watching and faults. */
export interface PipeHooks {
  /** tap sees every chunk as it is read, before any fault: `offset` is the bytes before it that way. */
  tap?: ((stream: Stream, offset: number, chunk: Buffer) => void) | undefined;
  /**
   * faults makes the Flow a direction writes through once a fault applies
   * to it (`undefined` while none does); asked when the connection starts,
   * at its FIN, and on refreshFaults(), never per chunk.
   */
  faults?: ((stream: Stream, next: Flow, control: ConnControl) => Flow | undefined) | undefined;
}

/** PipeSides names the two ends of a relayed connection. */
export interface PipeSides {
  id: number;
  proxy: string;
  client: Duplex;
  clientText: string;
  target: Duplex;
  targetText: string;
  /** started is when the client was accepted (Date.now()). */
  started: number;
}

/**
 * Pipe moves bytes both ways between a client and its target, faithfully:
 *
 * - Half-close: a side's FIN becomes end() on the other side once what it
 *   sent before is written, while the other direction keeps flowing (both
 *   sockets are in allowHalfOpen mode), as `socat` and Go's io.Copy pairs
 *   with CloseWrite do.
 * - Reset: a side that fails with ECONNRESET has the other side reset
 *   too (SO_LINGER 0), so a client sees the server's RST as an RST and not
 *   as a clean end of stream.
 * - Backpressure: a chunk is written only while the other side's writable
 *   buffer is under its high-water mark; past it the source is paused
 *   until 'drain'. A slow reader therefore holds at most one read chunk
 *   (64 KiB) plus the writable high-water mark (16 KiB for a socket) per
 *   direction in the relay; the rest waits in the kernel's buffers and
 *   TCP's window stops the sender.
 * - A paused source still notices a reset: Node stops polling a socket
 *   it is not reading, so a peer's RST would go unseen for as long as the
 *   other side does not read (for ever, with a target that never does),
 *   holding both connections. While paused, the source is probed every
 *   RESET_PROBE_MS (see peerReset) and a reset one fails as ECONNRESET.
 *
 * Without a tap or a fault a chunk costs one write() and a counter:
 * nothing else runs per chunk.
 */
export class Pipe {
  readonly sides: PipeSides;
  /** up and down count bytes read from the client and from the target. */
  up = 0;
  down = 0;
  #first: Closer | undefined;
  #how: CloseKind = 'fin';
  #reason: string | undefined;
  #open = 2;
  #done: (s: ConnSummary) => void;
  #installers: (() => void)[] = [];
  #flows: { upstream: Flow | undefined; downstream: Flow | undefined } = {
    upstream: undefined,
    downstream: undefined,
  };

  constructor(sides: PipeSides, hooks: PipeHooks, done: (s: ConnSummary) => void) {
    this.sides = sides;
    this.#done = done;
    const { client, target } = sides;
    const onClosed = () => {
      if (--this.#open === 0) this.#finish();
    };
    for (const side of [client, target]) {
      if (side.destroyed) queueMicrotask(onClosed);
      else side.once('close', onClosed);
    }
    const control: ConnControl = {
      reset: (reason) => this.reset(reason),
      close: (reason) => this.close(reason),
    };
    this.#direction('upstream', client, target, 'client', hooks, control);
    this.#direction('downstream', target, client, 'target', hooks, control);
    if (client.destroyed || target.destroyed) this.#ended(client.destroyed ? 'client' : 'target', 'rst');
  }

  /** idleBytes is a number that changes whenever bytes move either way (for idle sweeps). */
  get idleBytes(): number {
    return this.up + this.down;
  }

  /** close ends both sides now (FIN), dropping anything queued; `reason` goes in the summary. */
  close(reason: string): void {
    this.#ended('relay', 'fin', reason);
    this.#destroyFlows();
    this.sides.client.destroy();
    this.sides.target.destroy();
  }

  /**
   * refreshFaults puts a direction that has none behind the fault engine
   * once a fault applies to it; the relay calls it when its faults
   * change, so a fault added at runtime reaches even a silent connection.
   */
  refreshFaults(): void {
    for (const install of this.#installers) install();
  }

  /** reset ends both sides with RST. */
  reset(reason: string): void {
    this.#ended('relay', 'rst', reason);
    this.#destroyFlows();
    resetSide(this.sides.client);
    resetSide(this.sides.target);
  }

  #direction(
    stream: Stream,
    src: Duplex,
    dst: Duplex,
    who: 'client' | 'target',
    hooks: PipeHooks,
    control: ConnControl,
  ): void {
    const tap = hooks.tap;
    const faults = hooks.faults;
    const count = stream === 'upstream' ? (n: number) => (this.up += n) : (n: number) => (this.down += n);
    const resume = () => src.resume();
    const direct: Flow = {
      write: (chunk) => dst.write(chunk),
      end: () => dst.end(),
      ondrain: undefined,
      destroy: () => {},
    };
    dst.on('drain', () => direct.ondrain?.());
    direct.ondrain = resume;
    let flow: Flow = direct;
    let probe: NodeJS.Timeout | undefined;
    const check = () => {
      probe = undefined;
      if (src.destroyed || !src.isPaused()) return;
      if (peerReset(src)) src.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      else probe = setTimeout(check, RESET_PROBE_MS).unref();
    };
    // One timer per paused direction at most, armed at the pause: nothing per chunk.
    const pause = () => {
      src.pause();
      probe ??= setTimeout(check, RESET_PROBE_MS).unref();
    };
    const install = () => {
      if (flow !== direct || faults === undefined) return;
      const f = faults(stream, direct, control);
      if (f === undefined) return;
      flow = f;
      this.#flows[stream] = f;
      // faultFlow took over direct.ondrain for its own queue; the source now waits on it.
      f.ondrain = resume;
    };
    // At once, not only at the first chunk: a timeout runs from the start of the connection, as in
    // Toxiproxy, and a FIN with no data before it must meet slow_close too. Later, the relay calls
    // refreshFaults() when faults change, so the data path itself never asks.
    install();
    this.#installers.push(install);
    const onData =
      tap === undefined
        ? (chunk: Buffer) => {
            count(chunk.length);
            if (!flow.write(chunk)) pause();
          }
        : (chunk: Buffer) => {
            const offset = stream === 'upstream' ? this.up : this.down;
            count(chunk.length);
            tap(stream, offset, chunk);
            if (!flow.write(chunk)) pause();
          };
    let finished = false;
    src.on('data', onData);
    src.on('end', () => {
      finished = true;
      this.#ended(who, 'fin');
      install();
      flow.end();
    });
    // A stream that closes without FIN or an error (a WebSocket dropped, a side destroyed)
    // must not leave the other side open.
    src.once('close', () => {
      clearTimeout(probe);
      if (finished || dst.destroyed) return;
      this.#ended(who, 'error', 'closed');
      this.#destroyFlows();
      // After a reset the other side is reset too, not closed: a TLS socket reports its close
      // inside destroy(), so reset() reaches this handler before it has reset the other side.
      if (this.#how === 'rst') resetSide(dst);
      else dst.destroy();
    });
    src.on('error', (err: NodeJS.ErrnoException) => {
      const rst = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      this.#ended(who, rst ? 'rst' : 'error', rst ? undefined : err.message);
      this.#destroyFlows();
      if (rst) resetSide(dst);
      else dst.destroy();
    });
    src.resume();
  }

  #ended(who: Closer, how: CloseKind, reason?: string): void {
    if (this.#first !== undefined) return;
    this.#first = who;
    this.#how = how;
    this.#reason = reason;
  }

  #destroyFlows(): void {
    this.#flows.upstream?.destroy();
    this.#flows.downstream?.destroy();
  }

  #finish(): void {
    this.#destroyFlows();
    const s = this.sides;
    this.#done({
      id: s.id,
      proxy: s.proxy,
      client: s.clientText,
      target: s.targetText,
      up: this.up,
      down: this.down,
      ms: Date.now() - s.started,
      first: this.#first ?? 'relay',
      how: this.#how,
      ...(this.#reason !== undefined ? { reason: this.#reason } : {}),
    });
  }
}

/** RESET_PROBE_MS is how often a paused source is checked for a reset its peer sent. */
export const RESET_PROBE_MS = 1000;

const ENOTCONN = -constants.errno.ENOTCONN;

/**
 * peerReset tells whether a TCP (or TLS) source was reset while the relay
 * was not reading it. getpeername() fails with ENOTCONN once the kernel
 * has moved the socket to CLOSE; before our own FIN only an abort (RST, a
 * retransmission timeout) gets it there, whereas after it a clean close
 * does too, with the peer's data still unread, so then it proves nothing.
 */
function peerReset(side: Duplex): boolean {
  if (side.writableEnded) return false;
  const handle = (side as { _handle?: { getpeername?: (out: object) => number } })._handle;
  return typeof handle?.getpeername === 'function' && handle.getpeername({}) === ENOTCONN;
}

/** resetSide resets a socket (RST) or destroys a stream that has no RST (WebSocket, a child's pipes). */
export function resetSide(side: Duplex): void {
  if (typeof (side as Socket).resetAndDestroy === 'function' || (side as { _parent?: Socket })._parent) {
    resetSocket(side as Socket);
  } else {
    side.destroy();
  }
}
