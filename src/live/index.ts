/**
 * netkit/live: live pages, the state of sockets and relays drawn in the
 * browser as it changes, served by netkit itself over server-sent events
 * with backpressure, a strict Content-Security-Policy, and a token beyond
 * loopback.
 *
 * @module netkit/live
 */
export { hostAllowed, isLoopbackHost, newToken, sameOrigin, tokenMatches } from './access.js';
export { EventStream, eventFrame } from './events.js';
export { type LivePage, type LivePageParts, liveCsp, renderLivePage } from './page.js';
export {
  type ClosedView,
  type ConnView,
  RELAY_LIVE_DEFAULTS,
  type RelayLiveOptions,
  type RelayLiveServeOptions,
  RelayLiveSource,
  type RelaySnapshot,
  relayLiveApi,
  renderRelayPage,
  serveRelayLive,
  type TrafficView,
} from './relay/index.js';
export { LIVE_DEFAULTS, type LiveOptions, type LiveServer, type LiveSource, serveLive } from './server.js';
export {
  DIAGRAM_STATES,
  type LeakWarning,
  renderStatesPage,
  type SocketView,
  STATES_SOURCE_DEFAULTS,
  type StatesLiveServeOptions,
  type StatesSample,
  type StatesSnapshot,
  StatesSource,
  type StatesSourceOptions,
  serveStatesLive,
  type Transition,
} from './states/index.js';
