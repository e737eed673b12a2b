/**
 * Types and wire constants of the PROXY protocol (HAProxy's proxy-protocol.txt,
 * versions 1 and 2), shared by the parsers and the builders.
 */

/** ProxyEndpoint is one end of the proxied connection: an IPv4/IPv6 address and port, or a UNIX path with port 0. */
export interface ProxyEndpoint {
  /** address is an IPv4 or IPv6 literal, or a UNIX socket path. */
  address: string;
  /** port is the TCP or UDP port; 0 for a UNIX path. */
  port: number;
}

/** ProxyTlv is one v2 type-length-value entry exactly as it was on the wire. */
export interface ProxyTlv {
  /** type is the TLV type byte (see PP2_TYPE). */
  type: number;
  /** value is the TLV's bytes, undecoded. */
  value: Buffer;
}

/** ProxySsl is the decoded PP2_TYPE_SSL TLV: client flags, verify result and its sub-TLVs. */
export interface ProxySsl {
  /** client holds PP2_CLIENT bits: did the client use TLS, send a certificate. */
  client: number;
  /** verify is 0 when the client certificate was verified. */
  verify: number;
  /** version is the TLS version the client used (PP2_SUBTYPE_SSL_VERSION). */
  version?: string;
  /** cn is the client certificate's common name (PP2_SUBTYPE_SSL_CN). */
  cn?: string;
  /** cipher is the negotiated cipher (PP2_SUBTYPE_SSL_CIPHER). */
  cipher?: string;
  /** sigAlg is the certificate's signature algorithm (PP2_SUBTYPE_SSL_SIG_ALG). */
  sigAlg?: string;
  /** keyAlg is the certificate's key algorithm (PP2_SUBTYPE_SSL_KEY_ALG). */
  keyAlg?: string;
}

/** ProxyFamily is the address family; v1 TCP4 is inet, TCP6 inet6, UNKNOWN unspec. */
export type ProxyFamily = 'inet' | 'inet6' | 'unix' | 'unspec';
/** ProxyTransport is the transport protocol; v1 is always stream (unspec for UNKNOWN). */
export type ProxyTransport = 'stream' | 'dgram' | 'unspec';

/** ProxyHeader is a parsed v1 or v2 header. Addresses are absent for LOCAL, UNKNOWN and unspec. */
export interface ProxyHeader {
  /** version is the protocol version the header was written in. */
  version: 1 | 2;
  /** command is PROXY for a relayed client, LOCAL for the proxy's own connection (a health check). */
  command: 'PROXY' | 'LOCAL';
  /** family is the address family of source and destination. */
  family: ProxyFamily;
  /** transport is stream (TCP) or dgram (UDP). */
  transport: ProxyTransport;
  /** source is the real client. */
  source?: ProxyEndpoint;
  /** destination is the address the client connected to at the proxy. */
  destination?: ProxyEndpoint;
  /** tlvs holds every TLV in wire order, NOOP and unknown types included. */
  tlvs: ProxyTlv[];
  /** alpn is the protocol the client negotiated (PP2_TYPE_ALPN). */
  alpn?: string;
  /** authority is the host name the client asked for, its SNI (PP2_TYPE_AUTHORITY). */
  authority?: string;
  /** uniqueId is the proxy's id for the connection (PP2_TYPE_UNIQUE_ID), at most 128 bytes. */
  uniqueId?: Buffer;
  /** netns is the network namespace name (PP2_TYPE_NETNS). */
  netns?: string;
  /** crc32c is present only when the header carried one and it matched. */
  crc32c?: number;
  /** ssl is the decoded PP2_TYPE_SSL TLV, when the client spoke TLS to the proxy. */
  ssl?: ProxySsl;
}

/** ProxyParseResult is a complete header and how many bytes of the input it took. */
export interface ProxyParseResult {
  /** header is the parsed header. */
  header: ProxyHeader;
  /** length is how many bytes the header took; the connection's data starts after them. */
  length: number;
}

/** SignatureState says what the first bytes of a stream can still be. */
export type SignatureState = 'v1' | 'v2' | 'none' | 'partial';

/** V1_SIGNATURE is "PROXY " — the space is part of it, so "PROXYX" is ruled out at once. */
export const V1_SIGNATURE: Buffer = Buffer.from('PROXY ', 'latin1');
/** V2_SIGNATURE is the 12-byte v2 magic, chosen by the spec to never start a valid v1 line or HTTP request. */
export const V2_SIGNATURE: Buffer = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** V1_MAX_LENGTH is the spec's worst case line (two full IPv6 addresses), CRLF included. */
export const V1_MAX_LENGTH = 107;
/** V2_HEADER_LENGTH is the fixed part: signature, ver_cmd, fam, 16-bit length. */
export const V2_HEADER_LENGTH = 16;
/** V2_MAX_LENGTH is the largest v2 header the 16-bit length field can describe. */
export const V2_MAX_LENGTH = V2_HEADER_LENGTH + 0xffff;

/** ADDRESS_BLOCK_LENGTH is the size of the v2 address block per family (spec section 2.2). */
export const ADDRESS_BLOCK_LENGTH = Object.freeze({ unspec: 0, inet: 12, inet6: 36, unix: 216 });
/** UNIX_PATH_LENGTH is sizeof(sun_path) in the v2 UNIX address block. */
export const UNIX_PATH_LENGTH = 108;

/** PP2_TYPE holds the TLV type numbers the spec defines. */
export const PP2_TYPE = Object.freeze({
  /** Application-Layer Protocol Negotiation, the protocol name. */
  ALPN: 0x01,
  /** The host name (SNI) the client asked for. */
  AUTHORITY: 0x02,
  /** CRC32c of the whole header. */
  CRC32C: 0x03,
  /** Padding, ignored. */
  NOOP: 0x04,
  /** An opaque connection id from the proxy. */
  UNIQUE_ID: 0x05,
  /** TLS information, with sub-TLVs. */
  SSL: 0x20,
  /** SSL sub-TLV: the TLS version. */
  SSL_VERSION: 0x21,
  /** SSL sub-TLV: the client certificate's common name. */
  SSL_CN: 0x22,
  /** SSL sub-TLV: the cipher. */
  SSL_CIPHER: 0x23,
  /** SSL sub-TLV: the certificate's signature algorithm. */
  SSL_SIG_ALG: 0x24,
  /** SSL sub-TLV: the certificate's key algorithm. */
  SSL_KEY_ALG: 0x25,
  /** The network namespace name. */
  NETNS: 0x30,
});

/** PP2_CLIENT holds the bits of the SSL TLV's client field. */
export const PP2_CLIENT = Object.freeze({
  /** The client connected over TLS. */
  SSL: 0x01,
  /** The client sent a certificate on this connection. */
  CERT_CONN: 0x02,
  /** The client sent a certificate at least once in this TLS session. */
  CERT_SESS: 0x04,
});

/** UNIQUE_ID_MAX is the spec's limit on PP2_TYPE_UNIQUE_ID. */
export const UNIQUE_ID_MAX = 128;
