/**
 * ProxyHeaderV2: a parsed v2 header that formats its addresses and decodes
 * its TLVs when they are first read, not when the header is parsed.
 */
import { formatIPv4, formatIPv6, readUnixPath } from './address-text.js';
import { decodeTlvFields, decodeTlvList, type TlvFields } from './tlv.js';
import {
  PP2_TYPE,
  type ProxyEndpoint,
  type ProxyFamily,
  type ProxyHeader,
  type ProxySsl,
  type ProxyTlv,
  type ProxyTransport,
  UNIX_PATH_LENGTH,
} from './types.js';

const PATH_LENGTH = UNIX_PATH_LENGTH;

/** FIELD_OF names the ProxyHeader field each known TLV type fills, for toJSON's key order. */
const FIELD_OF: Readonly<Record<number, keyof ProxyHeader>> = {
  [PP2_TYPE.ALPN]: 'alpn',
  [PP2_TYPE.AUTHORITY]: 'authority',
  [PP2_TYPE.CRC32C]: 'crc32c',
  [PP2_TYPE.UNIQUE_ID]: 'uniqueId',
  [PP2_TYPE.SSL]: 'ssl',
  [PP2_TYPE.NETNS]: 'netns',
};

/**
 * ProxyHeaderV2 is what parseProxyHeader returns for a v2 header. The header
 * was fully checked when it was parsed (every length, the TLV structure, the
 * CRC32C); what is left for later is only turning bytes into values, which
 * a server that reads just the source address never pays for: source,
 * destination, tlvs and the TLV fields are getters that decode on first
 * access and return the same value every time after. The header's bytes are
 * copied when it is parsed, so reusing the input buffer changes nothing.
 *
 * Getters live on the prototype, so `{ ...header }`, Object.keys and
 * deepEqual see only version, command, family and transport: use toJSON()
 * for a plain object. JSON.stringify calls it, so JSON output is the
 * same as for a plain ProxyHeader.
 */
export class ProxyHeaderV2 implements ProxyHeader {
  readonly version: 2;
  readonly command: 'PROXY' | 'LOCAL';
  readonly family: ProxyFamily;
  readonly transport: ProxyTransport;
  /** #bytes holds the address block and TLV area, copied out of the input, at [#start, #end). */
  readonly #bytes: Uint8Array;
  /** #start is where the address block starts in #bytes. */
  readonly #start: number;
  /** #tlvStart is where the TLV area starts in #bytes. */
  readonly #tlvStart: number;
  /** #end is where the TLV area ends in #bytes. */
  readonly #end: number;
  /** #crc32c is the checked checksum, when the header carried one. */
  readonly #crc32c: number | undefined;
  #source: ProxyEndpoint | undefined;
  #destination: ProxyEndpoint | undefined;
  #tlvs: ProxyTlv[] | undefined;
  #fields: TlvFields | undefined;

  /** Use parseProxyHeader: the constructor trusts that the bytes were checked. */
  constructor(
    command: 'PROXY' | 'LOCAL',
    family: ProxyFamily,
    transport: ProxyTransport,
    bytes: Uint8Array,
    start: number,
    tlvStart: number,
    end: number,
    crc32c: number | undefined,
  ) {
    this.version = 2;
    this.command = command;
    this.family = family;
    this.transport = transport;
    this.#bytes = bytes;
    this.#start = start;
    this.#tlvStart = tlvStart;
    this.#end = end;
    this.#crc32c = crc32c;
    this.#source = undefined;
    this.#destination = undefined;
    this.#tlvs = undefined;
    this.#fields = undefined;
  }

  /** source is the real client; undefined for LOCAL and unspec. */
  get source(): ProxyEndpoint | undefined {
    if (this.#source === undefined) this.#source = this.#endpoint(0);
    return this.#source;
  }

  /** destination is the address the client connected to at the proxy; undefined for LOCAL and unspec. */
  get destination(): ProxyEndpoint | undefined {
    if (this.#destination === undefined) this.#destination = this.#endpoint(1);
    return this.#destination;
  }

  /** tlvs holds every TLV in wire order, NOOP and unknown types included. */
  get tlvs(): ProxyTlv[] {
    if (this.#tlvs === undefined) this.#tlvs = decodeTlvList(this.#bytes, this.#tlvStart, this.#end);
    return this.#tlvs;
  }

  /** alpn is the protocol the client negotiated (PP2_TYPE_ALPN). */
  get alpn(): string | undefined {
    return this.#decoded().alpn;
  }

  /** authority is the host name the client asked for, its SNI (PP2_TYPE_AUTHORITY). */
  get authority(): string | undefined {
    return this.#decoded().authority;
  }

  /** uniqueId is the proxy's id for the connection (PP2_TYPE_UNIQUE_ID), at most 128 bytes. */
  get uniqueId(): Buffer | undefined {
    return this.#decoded().uniqueId;
  }

  /** netns is the network namespace name (PP2_TYPE_NETNS). */
  get netns(): string | undefined {
    return this.#decoded().netns;
  }

  /** crc32c is present only when the header carried one and it matched. */
  get crc32c(): number | undefined {
    return this.#crc32c;
  }

  /** ssl is the decoded PP2_TYPE_SSL TLV, when the client spoke TLS to the proxy. */
  get ssl(): ProxySsl | undefined {
    return this.#decoded().ssl;
  }

  /**
   * toJSON returns the header as a plain ProxyHeader object, keys in the
   * order a field-by-field decoder sets them (fixed fields, tlvs, addresses,
   * then TLV fields in wire order) and absent fields left out.
   */
  toJSON(): ProxyHeader {
    const tlvs = this.tlvs;
    const out: ProxyHeader = {
      version: 2,
      command: this.command,
      family: this.family,
      transport: this.transport,
      tlvs,
    };
    const source = this.source;
    if (source !== undefined) {
      out.source = source;
      out.destination = this.destination;
    }
    for (const t of tlvs) {
      const k = FIELD_OF[t.type];
      if (k !== undefined && !(k in out)) (out as unknown as Record<string, unknown>)[k] = this[k];
    }
    return out;
  }

  /** Console and util.inspect show the decoded header, as they did for a plain object. */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (v: unknown, o: object) => string,
  ): string {
    return inspect(this.toJSON(), options);
  }

  /** #endpoint formats source (0) or destination (1) from the address block. */
  #endpoint(which: 0 | 1): ProxyEndpoint | undefined {
    if (this.command !== 'PROXY') return undefined;
    const b = this.#bytes;
    const o = this.#start;
    switch (this.family) {
      case 'inet': {
        const p = o + 8 + 2 * which;
        return { address: formatIPv4(b, o + 4 * which), port: (b[p]! << 8) | b[p + 1]! };
      }
      case 'inet6': {
        const a = o + 16 * which;
        const p = o + 32 + 2 * which;
        return { address: formatIPv6(b.subarray(a, a + 16)), port: (b[p]! << 8) | b[p + 1]! };
      }
      case 'unix':
        return { address: readUnixPath(b, o + PATH_LENGTH * which, PATH_LENGTH), port: 0 };
      default:
        return undefined;
    }
  }

  #decoded(): TlvFields {
    if (this.#fields === undefined) this.#fields = decodeTlvFields(this.#bytes, this.#tlvStart, this.#end);
    return this.#fields;
  }
}
