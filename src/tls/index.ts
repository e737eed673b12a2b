/**
 * netkit/tls: what every netkit server and client uses to speak TLS — the
 * server options (certificates, ephemeral self-signed certificates, mutual
 * TLS, handshake limits), the client options (CA, pins, client
 * certificates), certificate fingerprints and pins, and the
 * NETKIT_TLS_FAILED reasons.
 *
 * @module netkit/tls
 */

export { TlsAgent, type TlsAgentOptions } from './agent.js';
export {
  checkPin,
  type ResolvedTlsClient,
  resolveSchemeTls,
  resolveTlsClient,
  subjectText,
  type TlsClientOptions,
  tlsConnectOptions,
  verifiedSubject,
} from './client.js';
export { type Ephemeral, selfSigned } from './ephemeral.js';
export { isTlsFailure, tlsError, tlsReason } from './failure.js';
export { fingerprintOf, fingerprintOfPem, parsePin } from './fingerprint.js';
export {
  type CertificatePair,
  checkPair,
  checkTlsServer,
  type ResolvedTlsServer,
  resolveTlsServer,
  TLS_SERVER_DEFAULTS,
  TlsAcceptor,
  type TlsServerOptions,
} from './server.js';
