import { Duplex } from 'node:stream';
import { dialSocket } from '../tcp/index.js';
import type { TlsClientOptions } from '../tls/client.js';
import { dialWsStream } from '../ws/index.js';
import type { RelayEndpoint } from './endpoint.js';
import type { ExecSpawner } from './exec.js';

/** OpenOptions are what opening a target needs besides the endpoint. */
export interface OpenOptions {
  /** timeout bounds connecting (and a TLS or WebSocket handshake); 0 means none. */
  timeout: number;
  signal?: AbortSignal | undefined;
  /** tls is how tls: and wss:// targets are checked (CA, pin, client certificate). */
  tls?: TlsClientOptions | undefined;
  /** preface is written before anything else, before a TLS handshake too (a PROXY header). */
  preface?: Buffer | undefined;
  /** spawner starts exec: targets. */
  spawner?: ExecSpawner | undefined;
  /** stdio is the stream a `-` target is. */
  stdio?: Duplex | undefined;
}

/**
 * openTarget connects to a target and resolves with a paused duplex
 * stream for the pipe: a socket (tcp:, tls:, unix:), a WebSocket carried
 * as binary messages (ws://, wss://), a child's stdin/stdout (exec:) or
 * the process's own stdio (`-`). Failures are NetkitErrors naming the
 * target (NETKIT_DIAL_FAILED, NETKIT_CONNECT_TIMEOUT, NETKIT_TLS_FAILED,
 * NETKIT_WS_HANDSHAKE, NETKIT_EXEC_FAILED). A preface is refused for
 * ws:// and wss:// targets by the relay's options check.
 */
export async function openTarget(ep: RelayEndpoint, o: OpenOptions): Promise<Duplex> {
  switch (ep.kind) {
    case 'tcp':
    case 'unix':
      return dialSocket(ep.kind === 'unix' ? `unix:${ep.path}` : ep.address, {
        timeout: o.timeout,
        signal: o.signal,
        preface: o.preface,
      });
    case 'tls':
      return dialSocket(ep.address, {
        timeout: o.timeout,
        signal: o.signal,
        preface: o.preface,
        tls: o.tls ?? true,
      });
    case 'ws':
      return dialWsStream(ep.url, {
        timeout: o.timeout,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(ep.secure ? { tls: o.tls ?? true } : {}),
      });
    case 'exec': {
      if (o.spawner === undefined) throw new Error('exec: target without a spawner');
      const child = o.spawner.spawn();
      if (o.preface) child.write(o.preface);
      return child;
    }
    case 'stdio':
      if (o.stdio === undefined) throw new Error('- target without stdio');
      return o.stdio;
    case 'udp':
      throw new Error('udp: targets are relayed by relayUdp');
  }
}

/** stdioDuplex joins stdin and stdout into one stream for a `-` endpoint. */
export function stdioDuplex(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Duplex {
  return Duplex.from({ readable: input, writable: output });
}
