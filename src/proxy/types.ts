/**
 * Types and wire constants of the PROXY protocol (HAProxy's proxy-protocol.txt,
 * versions 1 and 2), shared by the parsers and the builders.
 */

/** ProxyEndpoint is one end of the proxied connection: an IPv4/IPv6 address and port, or a UNIX path with port 0. */
export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** ProxyTlv is one v2 type-length-value entry exactly as it was on the wire. */
export interface ProxyTlv {
  type: number;
  value: Buffer;
}

/** ProxySsl is the decoded PP2_TYPE_SSL TLV: client flags, verify result and its sub-TLVs. */
export interface ProxySsl {
  client: number;
  verify: number;
  version?: string;
  cn?: string;
  cipher?: string;
  sigAlg?: string;
  keyAlg?: string;
}

/** ProxyFamily is the address family; v1 TCP4 is inet, TCP6 inet6, UNKNOWN unspec. */
export type ProxyFamily = 'inet' | 'inet6' | 'unix' | 'unspec';
/** ProxyTransport is the transport protocol; v1 is always stream (unspec for UNKNOWN). */
export type ProxyTransport = 'stream' | 'dgram' | 'unspec';

/** ProxyHeader is a parsed v1 or v2 header. Addresses are absent for LOCAL, UNKNOWN and unspec. */
export interface ProxyHeader {
  version: 1 | 2;
  command: 'PROXY' | 'LOCAL';
  family: ProxyFamily;
  transport: ProxyTransport;
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
  /** tlvs holds every TLV in wire order, NOOP and unknown types included. */
  tlvs: ProxyTlv[];
  alpn?: string;
  authority?: string;
  uniqueId?: Buffer;
  netns?: string;
  /** crc32c is present only when the header carried one and it matched. */
  crc32c?: number;
  ssl?: ProxySsl;
}

/** ProxyParseResult is a complete header and how many bytes of the input it took. */
export interface ProxyParseResult {
  header: ProxyHeader;
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
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
  SSL_SIG_ALG: 0x24,
  SSL_KEY_ALG: 0x25,
  NETNS: 0x30,
});

/** PP2_CLIENT holds the bits of the SSL TLV's client field. */
export const PP2_CLIENT = Object.freeze({ SSL: 0x01, CERT_CONN: 0x02, CERT_SESS: 0x04 });

/** UNIQUE_ID_MAX is the spec's limit on PP2_TYPE_UNIQUE_ID. */
export const UNIQUE_ID_MAX = 128;
