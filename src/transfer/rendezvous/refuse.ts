import type { Duplex } from 'node:stream';
import type { RendezvousCode } from '../../errors.js';
import { encodeFrame } from './protocol.js';

/** LINGER_MS is how long a refused client's last bytes are read and dropped before its socket is closed anyway. */
export const LINGER_MS = 1000;

/**
 * refuse sends a client one `error` frame and hangs up without losing it:
 * FIN first, then whatever the client still sends is read and dropped
 * until it closes too, for at most LINGER_MS. Closing with unread bytes
 * makes the kernel answer with RST, and an RST can destroy the frame
 * before the client has read it (the same reason as hangUp in
 * session-recv.ts). The caller has removed its own listeners.
 */
export function refuse(socket: Duplex, code: RendezvousCode, message: string): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  const done = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', done);
  socket.on('end', done);
  socket.on('data', () => {});
  socket.resume();
  socket.end(encodeFrame({ type: 'error', code, message }));
}
