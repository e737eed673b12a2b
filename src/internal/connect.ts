import net from 'node:net';

/**
 * connectSocket opens a half-open-capable socket (as every netkit socket is)
 * to `to` and resolves once it is connected, or rejects with the socket's
 * error, or with `signal.reason` when the signal aborts first (the socket is
 * then destroyed). Its error listener is removed on success, so the caller
 * owns the socket's errors from then on.
 */
export function connectSocket(
  to: { host: string; port: number } | { path: string },
  signal: AbortSignal,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...to, allowHalfOpen: true });
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}
