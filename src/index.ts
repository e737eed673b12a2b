/**
 * netkit: network programming for TypeScript on Node.js. The root module
 * re-exports the most used names; each area also has its own subpath
 * (`netkit/tcp`, `netkit/framing`, `netkit/ws`, `netkit/transfer`, `netkit/addr`, `netkit/errors`).
 *
 * @module netkit
 */
export {
  formatAddr,
  joinHostPort,
  type NetAddr,
  type Resolution,
  type ResolveCandidate,
  type ResolveOptions,
  resolveTCPAddr,
  resolveUDPAddr,
  splitHostPort,
} from './addr/index.js';
export {
  AbortError,
  AddrError,
  ConnectionError,
  DatagramError,
  ERROR_CODES,
  type ErrorCode,
  FrameError,
  InvalidArgumentError,
  isNetkitError,
  ListenError,
  NetkitError,
  RendezvousError,
  TimeoutError,
  TransferError,
  UnsupportedError,
  WsError,
} from './errors.js';
export {
  createDecoder,
  createEncoder,
  FRAME_FORMATS,
  type FrameDecoder,
  type FrameEncoder,
  type FrameFormat,
} from './framing/index.js';
export {
  Conn,
  type ConnSummary,
  type DialOptions,
  dial,
  type Endpoint,
  echoHandler,
  frameHandler,
  type Handler,
  type KeepAliveOptions,
  Listener,
  type ListenOptions,
  listen,
  replyHandler,
  type ServeOptions,
  Server,
  serve,
} from './tcp/index.js';
export {
  type ReceiveOptions,
  type ReceiverOptions,
  type RendezvousOptions,
  receiveFiles,
  type SendOptions,
  sendFiles,
  serveFiles,
  serveRendezvous,
} from './transfer/index.js';
export {
  bind as bindUDP,
  type Datagram,
  DatagramSocket,
  dial as dialUDP,
  MAX_UDP_PAYLOAD_V4,
  MAX_UDP_PAYLOAD_V6,
  type UdpOptions,
} from './udp/index.js';
// From the modules themselves, not netkit/ws: importing `netkit` should not load the Redis client.
export { dialWs } from './ws/client/client.js';
export type { WsClientOptions } from './ws/client/options.js';
export type { WsMessage } from './ws/message.js';
export { attachWs } from './ws/server/attach.js';
export type { AttachWsOptions } from './ws/server/attach-options.js';
export type { WsServerOptions } from './ws/server/options.js';
export { serveWs } from './ws/server/serve.js';
