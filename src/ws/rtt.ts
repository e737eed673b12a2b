import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';

/**
 * RttPings measures round trips with pings: each ping carries a unique
 * payload, and the pong echoing it resolves that ping's promise with the
 * elapsed milliseconds. Pings outstanding when the socket goes away
 * resolve with NaN rather than hang.
 */
export class RttPings {
  readonly #pending = new Map<string, { start: number; resolve: (rtt: number) => void }>();
  #seq = 0;

  /** ping sends a ping on `ws` and resolves with the round-trip time. */
  ping(ws: WebSocket): Promise<number> {
    if (ws.readyState !== 1) return Promise.resolve(Number.NaN);
    const key = `nk${++this.#seq}`;
    return new Promise((resolve) => {
      this.#pending.set(key, { start: performance.now(), resolve });
      ws.ping(Buffer.from(key, 'latin1'));
    });
  }

  /** pong settles the ping whose payload this pong echoes; returns its rtt, or undefined if none. */
  pong(payload: Buffer): number | undefined {
    const key = payload.toString('latin1');
    const p = this.#pending.get(key);
    if (!p) return undefined;
    this.#pending.delete(key);
    const rtt = performance.now() - p.start;
    p.resolve(rtt);
    return rtt;
  }

  /** cancel resolves every outstanding ping with NaN. */
  cancel(): void {
    for (const p of this.#pending.values()) p.resolve(Number.NaN);
    this.#pending.clear();
  }
}
