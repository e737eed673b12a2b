/**
 * netkit/tcp: Go's TCP model (dial, listen, serve, deadlines, half-close) on Node sockets.
 *
 * @module netkit/tcp
 */
export { Conn, type ConnOptions, type ConnSummary, type PeerClose, type ReadOptions } from './conn.js';
export { DIAL_DEFAULTS, type DialOptions, dial, dialSocket } from './dial.js';
export type { Endpoint, IpEndpoint, UnixEndpoint } from './endpoint.js';
export { endpointText, unixEndpoint } from './endpoint.js';
export { echoHandler, type FrameHandlerOptions, frameHandler, replyHandler } from './handlers.js';
export { GO_KEEPALIVE_IDLE_MS, type KeepAliveOptions } from './keepalive.js';
export { type BindOptions, LISTEN_DEFAULTS, type ListenOptions, listen, listenFor } from './listen.js';
export { Listener, type ListenerTls } from './listener.js';
export {
  type Handler,
  type HandlerContext,
  SERVE_DEFAULTS,
  type ServeOptions,
  Server,
  type ServerEvents,
  serve,
} from './serve.js';
export { type StreamTarget, streamTarget, UNIX_PREFIX } from './unix.js';
