import type { WsPeer } from './peer.js';

/**
 * startHeartbeat pings every peer each `intervalMs` and terminates one
 * whose pong to the previous ping has not come back, so a peer that went
 * away silently (power loss, a NAT that forgot the flow) is dropped within
 * two intervals instead of holding its socket forever. One timer serves
 * every peer. Returns a function that stops it.
 */
export function startHeartbeat(peers: Iterable<WsPeer>, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  const timer = setInterval(() => {
    for (const peer of peers) {
      if (!peer.alive) {
        peer.terminate();
        continue;
      }
      peer.alive = false;
      if (peer.open) peer.socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
