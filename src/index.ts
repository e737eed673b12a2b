/**
 * netkit: network programming for TypeScript on Node.js. The root module
 * re-exports the most used names; each area also has its own subpath
 * (`netkit/tcp`, `netkit/framing`, `netkit/addr`, `netkit/errors`).
 */
export {
  formatAddr,
  joinHostPort,
  resolveTCPAddr,
  resolveUDPAddr,
  splitHostPort,
  type NetAddr,
  type Resolution,
  type ResolveCandidate,
  type ResolveOptions,
} from './addr/index.js';
export * from './errors.js';
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
  dial,
  echoHandler,
  frameHandler,
  listen,
  Listener,
  replyHandler,
  serve,
  Server,
  type ConnSummary,
  type DialOptions,
  type Endpoint,
  type Handler,
  type KeepAliveOptions,
  type ListenOptions,
  type ServeOptions,
} from './tcp/index.js';
