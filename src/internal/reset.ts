import type { Socket } from 'node:net';

/**
 * resetSocket closes `socket` now with RST instead of FIN (SO_LINGER 0).
 * A TLS socket cannot do it itself (its handle is the TLS layer, not the
 * TCP connection), so the TCP socket under it, which node:tls keeps as
 * `_parent`, is reset instead. A Unix socket has no RST: it is destroyed.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  const tcp = (socket as Socket & { _parent?: Socket })._parent ?? socket;
  try {
    if (tcp.remoteFamily === undefined || tcp.destroyed) socket.destroy();
    else tcp.resetAndDestroy();
  } catch {
    // resetAndDestroy throws on a socket that is not TCP; closing it is the next best thing.
  }
  // A TLS layer is closed on the next turn: destroying it in the same turn as the reset of
  // the TCP handle under it crashes Node (a segfault) on a server socket just past its handshake.
  if (tcp === socket) socket.destroy();
  else setImmediate(() => socket.destroy());
}
