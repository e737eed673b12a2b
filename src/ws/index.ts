/**
 * netkit/ws: WebSocket servers (echo, broadcast rooms, your own handler,
 * a browser page) and clients (async iteration, ping RTTs, reconnect), on
 * the `ws` package for the protocol itself. Rooms can span processes and
 * machines through a Bus such as RedisBus.
 *
 * @module netkit/ws
 */

export type { BackoffOptions } from '../internal/backoff.js';
export { RedisBus, type RedisBusOptions, type RedisBusStatus } from './bus/redis.js';
export type { Bus, BusMessage } from './bus/types.js';
export { dialWs, WsClient, type WsClientEvents } from './client/client.js';
export { parseWsUrl, type WsClientOptions } from './client/options.js';
export { dialWsStream } from './client/stream.js';
export { CLOSE, isNormalClose, type Sendable, type WsMessage } from './message.js';
export { renderPage } from './page.js';
export { attachWs } from './server/attach.js';
export { ATTACH_WS_DEFAULTS, type AttachWsOptions } from './server/attach-options.js';
export {
  WS_SERVER_DEFAULTS,
  type WsHandler,
  type WsMode,
  type WsServerEvent,
  type WsServerOptions,
} from './server/options.js';
export { WsPeer } from './server/peer.js';
export { serveWs } from './server/serve.js';
export { type WsFront, WsServer } from './server/ws-server.js';
