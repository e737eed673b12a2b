/**
 * netkit's PROXY protocol (v1 and v2) parser and builder.
 */
export {
  buildProxyHeaderV1,
  buildProxyHeaderV2,
  buildSslTlv,
  type ProxyV1Options,
  type ProxyV2Options,
} from './build.js';
export { crc32c } from './crc32c.js';
export { parseProxyHeader, signatureState } from './parse.js';
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
