/**
 * Size limits of a single UDP datagram. The UDP header's length field is 16
 * bits, so a datagram can never exceed 65,535 bytes of IP payload; what is
 * left for data depends on what else that 65,535 has to hold.
 */
import { DatagramError } from '../errors.js';

/**
 * MAX_UDP_PAYLOAD_V4 is the largest UDP payload over IPv4: 65,535 (the IPv4
 * total-length field, which counts the header) − 20 (minimal IPv4 header) −
 * 8 (UDP header).
 */
export const MAX_UDP_PAYLOAD_V4 = 65_507;

/**
 * MAX_UDP_PAYLOAD_V6 is the largest UDP payload over IPv6 without jumbograms:
 * 65,535 (the IPv6 payload-length field, which does not count the 40-byte
 * IPv6 header) − 8 (UDP header).
 */
export const MAX_UDP_PAYLOAD_V6 = 65_527;

/** DEFAULT_MAX_QUEUE is how many received datagrams wait for receive() before new ones are dropped. */
export const DEFAULT_MAX_QUEUE = 1024;

/** maxPayload returns the largest UDP payload for an address family. */
export function maxPayload(family: 4 | 6): number {
  return family === 4 ? MAX_UDP_PAYLOAD_V4 : MAX_UDP_PAYLOAD_V6;
}

/**
 * checkDatagramSize throws DatagramError when `size` exceeds `limit`; it runs
 * before anything is handed to the kernel, so an oversize datagram is never
 * partly sent or silently truncated.
 */
export function checkDatagramSize(size: number, limit: number): void {
  if (size > limit) {
    throw new DatagramError(`datagram of ${size} bytes exceeds the limit of ${limit} bytes`, {
      limit,
      size,
    });
  }
}
