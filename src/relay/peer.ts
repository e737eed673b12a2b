import net from 'node:net';
import { joinHostPort, splitHostPort } from '../addr/index.js';
import type { ClientAddress } from './client-header.js';

/** Peer is a relayed client: its address for events and PROXY headers, and whether it is local. */
export interface Peer extends ClientAddress {
  /** text is `127.0.0.1:50312`, `unix` or `stdin`. */
  text: string;
  /** local is true for loopback and Unix-socket clients (who may start exec: programs). */
  local: boolean;
}

/**
 * peerOf describes the client of `socket`; behind a trusted PROXY header
 * its address is the real client's (the Listener set it).
 */
export function peerOf(socket: net.Socket, unix: boolean): Peer {
  if (unix) return { text: 'unix', local: true };
  const address = socket.remoteAddress;
  const port = socket.remotePort;
  return {
    text: address !== undefined && port !== undefined ? joinHostPort(address, port) : 'unknown',
    local: address !== undefined && isLoopbackIp(address),
    address,
    port,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
  };
}

/** isLoopback says whether a `host:port` listen address binds loopback only (an empty host is every address). */
export function isLoopback(hostport: string): boolean {
  let host: string;
  try {
    host = splitHostPort(hostport).host;
  } catch {
    return false;
  }
  if (host === 'localhost') return true;
  return isLoopbackIp(host);
}

function isLoopbackIp(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  return ip === '::1';
}
