/**
 * The endpoints of a socket's recent peers, so a datagram from a known peer
 * costs two map look-ups instead of a new frozen endpoint, its address text,
 * and an entry in a WeakSet: a UDP server hears from the same few peers over
 * and over, and building those per datagram was most of what netkit added to
 * node:dgram's own cost, in allocation and in garbage collection.
 */
import { endpoint, type IpEndpoint } from '../tcp/endpoint.js';

/**
 * PEER_CACHE_MAX bounds the endpoints one socket keeps. Past it the cache
 * starts again empty: a socket that hears from more peers than this (a
 * public DNS server) builds endpoints as it would with no cache, and memory
 * stays bounded whatever source addresses arrive.
 */
export const PEER_CACHE_MAX = 1024;

/** PeerCache hands out one frozen endpoint per (address, port) a socket receives from. */
export class PeerCache {
  // Keyed by address, then port: no key string is built per datagram.
  #byIp = new Map<string, Map<number, IpEndpoint>>();
  #size = 0;
  /** #issued tells endpoints made here from lookalikes a caller built: only these skip re-resolution on send. */
  readonly #issued = new WeakSet<IpEndpoint>();

  /** size counts the endpoints kept now (never more than PEER_CACHE_MAX). */
  get size(): number {
    return this.#size;
  }

  /** get returns the endpoint of `ip` and `port` as node:dgram reports them, made once per peer. */
  get(ip: string, port: number): IpEndpoint {
    let ports = this.#byIp.get(ip);
    const known = ports?.get(port);
    if (known !== undefined) return known;
    if (this.#size >= PEER_CACHE_MAX) {
      this.#byIp = new Map();
      this.#size = 0;
      ports = undefined;
    }
    if (ports === undefined) {
      ports = new Map();
      this.#byIp.set(ip, ports);
    }
    const e = endpoint(ip, port, 'udp') as IpEndpoint;
    ports.set(port, e);
    this.#size++;
    this.#issued.add(e);
    return e;
  }

  /** issued reports whether `e` came from get() (now or before the cache last started again). */
  issued(e: object): e is IpEndpoint {
    return this.#issued.has(e as IpEndpoint);
  }
}
