/**
 * netkit/proxy: the real client behind a load balancer. The PROXY protocol
 * (v1 and v2) parser and builder, the header reader every netkit server
 * uses for trusted peers, and trusted Forwarded / X-Forwarded-For resolution.
 *
 * @module netkit/proxy
 */
export {
  acceptProxied,
  type ProxyOptions,
  type ResolvedProxyOptions,
  resolveProxyOptions,
} from './accept.js';
export {
  buildProxyHeaderV1,
  buildProxyHeaderV2,
  buildSslTlv,
  type ProxyV1Options,
  type ProxyV2Options,
} from './build.js';
export { crc32c } from './crc32c.js';
export { type ClientAddress, clientAddress } from './forwarded.js';
export { ProxyHeaderV2 } from './header-v2.js';
export { parseProxyHeader, signatureState } from './parse.js';
export { TrustList } from './trust.js';
export {
  PP2_CLIENT,
  PP2_TYPE,
  type ProxyEndpoint,
  type ProxyFamily,
  type ProxyHeader,
  type ProxyParseResult,
  type ProxySsl,
  type ProxyTlv,
  type ProxyTransport,
  type SignatureState,
  V1_MAX_LENGTH,
  V2_MAX_LENGTH,
} from './types.js';
