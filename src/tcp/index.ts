/** netkit/tcp: Go's TCP model (dial, listen, serve, deadlines, half-close) on Node sockets. */
export { Conn, type ConnSummary, type PeerClose, type ReadOptions } from './conn.js';
export { dial, DIAL_DEFAULTS, type DialOptions } from './dial.js';
export type { Endpoint } from './endpoint.js';
export { GO_KEEPALIVE_IDLE_MS, type KeepAliveOptions } from './keepalive.js';
export { listen, Listener, LISTEN_DEFAULTS, type ListenOptions } from './listen.js';
export {
  serve,
  Server,
  SERVE_DEFAULTS,
  type Handler,
  type HandlerContext,
  type ServeOptions,
  type ServerEvents,
} from './serve.js';
export { echoHandler, frameHandler, replyHandler, type FrameHandlerOptions } from './handlers.js';
