/**
 * A server that closes the connection without a word in answer to a
 * client's first call either died, or could not read the client's codec:
 * Go's servers and netkit's close the connection on bytes of the other
 * codec, and say nothing. Only asking again tells the two apart, so the
 * client asks once, on a second connection, in the protocol the server
 * probably speaks, for a service no server has: a server of that protocol
 * answers at once ("can't find service"), a dead one does not. This runs
 * only on that failure path, once per connection, and is bounded in time.
 */

import type { Conn } from '../../tcp/conn.js';
import { type DialOptions, dial } from '../../tcp/dial.js';
import { createClientCodec } from '../codec/index.js';
import type { CodecName } from '../codec/types.js';
import type { WireProtocol } from '../errors.js';
import { guessWire, SNIFF_BYTES } from '../wire-guess.js';
import { httpConnect } from './http-connect.js';

/** PROBE_MS bounds the whole probe: dial, handshake and answer. */
export const PROBE_MS = 2000;

/** PROBE_METHOD is the method the probe calls; no server has the service, so it is answered with an error. */
export const PROBE_METHOD = 'NetkitProbe.Codec';

/** Probe is what a probe learned: the protocol the server answered in, and the first bytes of its answer. */
export interface ProbeResult {
  seen: WireProtocol;
  head: Buffer;
}

/**
 * probeWire dials `address` and calls PROBE_METHOD in `codec` (after Go's
 * HTTP CONNECT when `http` is a path). It resolves with what the server
 * answered in, or undefined when it answered nothing recognisable within
 * PROBE_MS (refused, closed, silent). It never rejects.
 */
export async function probeWire(
  address: string,
  as: { codec: CodecName; http: string | false },
  dialOptions: DialOptions,
): Promise<ProbeResult | undefined> {
  const signal = AbortSignal.timeout(PROBE_MS);
  let conn: Conn | undefined;
  try {
    conn = await dial(address, { ...dialOptions, timeout: PROBE_MS, signal });
    conn.setReadDeadline(Date.now() + PROBE_MS);
    // A failed handshake rejects, and the catch below makes that "nothing recognisable".
    if (as.http) await httpConnect(conn, as.http, { codec: as.codec, http: true });
    await conn.write(createClientCodec(as.codec, 1 << 20).encodeRequest(PROBE_METHOD, 0, 0));
    let head = Buffer.alloc(0);
    for (;;) {
      const chunk = await conn.read({ signal });
      if (chunk === null) return undefined;
      head = Buffer.concat([head, chunk]).subarray(0, SNIFF_BYTES);
      const seen = guessWire(head);
      if (seen) return { seen, head };
      if (head.length >= SNIFF_BYTES) return undefined;
    }
  } catch {
    return undefined;
  } finally {
    conn?.destroy();
  }
}
