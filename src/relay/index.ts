/**
 * netkit/relay: relay, watch, balance and break traffic between two endpoints (socat, websocat, HAProxy, Toxiproxy).
 *
 * @module netkit/relay
 */
export {
  type ProxyJson,
  proxyJson,
  RELAY_API_VERSION,
  type RelayApi,
  type RelayApiHandlerOptions,
  type RelayApiOptions,
  relayApiHandler,
  serveRelayApi,
  type ToxicJson,
} from './api.js';
export { type Balance, HEALTH_DEFAULTS, type HealthCheck, type TargetChange } from './balance.js';
export type { SendProxy } from './client-header.js';
export {
  type DumpChunk,
  type DumpEvent,
  type DumpMode,
  type DumpOptions,
  dumpEvent,
  formatDump,
} from './dump.js';
export { parseEndpoint, type RelayEndpoint } from './endpoint.js';
export { type ExecExit, type ExecOptions, ExecSpawner, ExecStream, splitArgv } from './exec.js';
export { parseFaults, type ToxicSpec } from './faults/index.js';
export type { ToxicType } from './faults/spec.js';
export {
  checkProxySpec,
  HubError,
  type ProxyChange,
  type ProxySpec,
  RelayHub,
  type RelayHubEvents,
  type RelayHubOptions,
} from './hub.js';
export { RELAY_DEFAULTS, type RelayOptions } from './options.js';
export { type ConnFail, type ConnOpen, Relay, type RelayEvents, relay } from './relay.js';
export { stdioDuplex } from './sides.js';
export { ToxicError, Toxics } from './toxics.js';
export type { CloseKind, Closer, ConnSummary, Stream } from './types.js';
export {
  relayUdp,
  UDP_RELAY_DEFAULTS,
  type UdpClientSummary,
  type UdpDatagram,
  UdpRelay,
  type UdpRelayOptions,
} from './udp.js';
