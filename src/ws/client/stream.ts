import type { Duplex } from 'node:stream';
import { createWebSocketStream } from 'ws';
import { openSocket } from './open.js';
import { resolveClientOptions, type WsClientOptions } from './options.js';

/**
 * dialWsStream opens a WebSocket and resolves with it as a byte stream:
 * every write is sent as one binary message, every message received (text
 * or binary) is read as its bytes. It is how a relay carries a TCP
 * connection over WebSocket, as websocat does. Ending the stream sends a
 * close frame; the peer's close ends the readable side; destroying it
 * drops the connection. Rejects as dialWs does (NETKIT_DIAL_FAILED,
 * NETKIT_WS_HANDSHAKE, NETKIT_TLS_FAILED, NETKIT_CONNECT_TIMEOUT).
 * `reconnect` and `preamble` do not apply.
 */
export async function dialWsStream(url: string | URL, options: WsClientOptions = {}): Promise<Duplex> {
  const o = resolveClientOptions(url, { perMessageDeflate: false, ...options });
  const { ws, take } = await openSocket(o, options.signal);
  const stream = createWebSocketStream(ws, { allowHalfOpen: true });
  // Messages that came with the 101 response were buffered by openSocket; they are the stream's first bytes.
  // unshift puts each in front of the last, so they go in from the newest.
  for (const m of take().reverse()) stream.unshift(m.data);
  return stream;
}
