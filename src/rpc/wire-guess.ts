/**
 * Telling which RPC protocol a server speaks from the first bytes it sends
 * back, so a client dialled with the wrong codec or transport fails at once
 * with advice instead of waiting out its timeout.
 *
 * The first bytes decide it. HTTP starts with `HTTP/`. JSON (Go's
 * net/rpc/jsonrpc, JSON-RPC 2.0) starts with `{` or `[` and ASCII after it;
 * JSON-RPC 2.0 says `"jsonrpc"` in its first object. A gob stream never
 * looks like either: it opens with a type definition, so its second byte is
 * the start of a negative type id of 64 or more (0x7f, or 0xff and up),
 * never ASCII.
 *
 * Silence is made to speak too, by what the clients send first (see
 * JsonClientCodec and connectRequest): a gob server takes a JSON client's
 * leading space for a 32-byte message and a `CONNECT` line for a 67-byte
 * one, finds no valid type definition in it, and closes the connection at
 * once; a netkit HTTP server answers 400 to the first byte that cannot
 * begin a request. A close without a word is then resolved by a probe
 * (client/probe.ts).
 */
import { RpcProtocolError, type WireProtocol } from './errors.js';
import { JsonValueDecoder } from './json-stream.js';

/** SNIFF_BYTES is how much of the start of a reply stream is kept to guess from. */
export const SNIFF_BYTES = 256;

const HTTP = Buffer.from('HTTP/');

function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * guessWire names the protocol the first bytes of a server's reply stream
 * are in, or undefined when they are too few to tell or look like nothing
 * known.
 */
export function guessWire(prefix: Buffer): WireProtocol | undefined {
  let i = 0;
  while (i < prefix.length && isJsonSpace(prefix[i]!)) i++;
  if (i === prefix.length) return undefined;
  const rest = prefix.subarray(i);
  const http = Math.min(rest.length, HTTP.length);
  if (rest.subarray(0, http).equals(HTTP.subarray(0, http))) return http === HTTP.length ? 'http' : undefined;
  const first = rest[0]!;
  if (first === 0x7b || first === 0x5b) {
    // `{` or `[` is also a one-byte gob count (123, 91): the byte after it tells.
    if (rest.length < 2) return undefined;
    if (rest[1]! >= 0x7f) return 'gob';
    return jsonKind(rest, prefix.length >= SNIFF_BYTES);
  }
  // A gob count: one byte under 128, or a negated byte count (0xf8 and up) before a longer one.
  if (first >= 0xf8 || (first < 0x80 && rest.length >= 2 && rest[1]! >= 0x7f)) return 'gob';
  return undefined;
}

/**
 * jsonKind tells JSON-RPC 2.0 (a `jsonrpc` member) from Go's JSON-RPC 1.0 by
 * the first whole value, so that a value cut short never gets the wrong
 * answer; undefined while it is cut short, unless `full` (no more is kept).
 */
function jsonKind(text: Buffer, full: boolean): WireProtocol | undefined {
  let first: Buffer | undefined;
  try {
    new JsonValueDecoder({ maxValueBytes: SNIFF_BYTES }).push(text, (v) => {
      first ??= v;
    });
  } catch {
    // Not JSON after all: it only started like JSON.
    return 'json';
  }
  if (first === undefined) {
    if (text.includes('"jsonrpc"')) return 'jsonrpc2';
    return full ? 'json' : undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(first.toString('utf8'));
  } catch {
    return 'json';
  }
  const object = Array.isArray(value) ? value[0] : value;
  return typeof object === 'object' && object !== null && 'jsonrpc' in object ? 'jsonrpc2' : 'json';
}

/** WireSide is what a client speaks: its codec, and whether it dialled through HTTP. */
export interface WireSide {
  codec: 'gob' | 'json' | 'jsonrpc2';
  http: boolean;
}

const NAMES: Record<WireProtocol, string> = {
  gob: 'gob (Go net/rpc)',
  json: "JSON-RPC 1.0 (Go's net/rpc/jsonrpc)",
  jsonrpc2: 'JSON-RPC 2.0',
  http: 'HTTP',
};

/** isForeign is true when a server answering in `seen` cannot be speaking what `ours` speaks. */
export function isForeign(ours: WireSide, seen: WireProtocol): boolean {
  if (seen === 'http') return !ours.http;
  return seen !== ours.codec;
}

/** advice says which flags to change so the client speaks what the server does. */
function advice(ours: WireSide, seen: WireProtocol): string {
  if (seen === 'http') {
    return ours.codec === 'jsonrpc2'
      ? 'if it serves JSON-RPC 2.0 over HTTP POST, give an http:// URL (--http)'
      : "if it is Go's rpc.HandleHTTP, dial with http (--http); if it serves JSON-RPC 2.0 over HTTP POST, use --codec jsonrpc2 --http";
  }
  const fixes: string[] = [];
  if (ours.http) fixes.push('dial without http (drop --http)');
  if (seen !== ours.codec) fixes.push(`use the ${seen} codec (--codec ${seen})`);
  return fixes.join(' and ');
}

/** firstLine shows the start of what the server sent, escaped, for the message. */
function firstLine(prefix: Buffer): string {
  const text = prefix.toString('latin1').trimStart().split(/\r?\n/, 1)[0]!.slice(0, 60);
  return JSON.stringify(text);
}

/**
 * mismatchError is the NETKIT_RPC_PROTOCOL error for a server that answered
 * in `seen` while the client speaks `ours`; `detected` carries `seen`.
 */
export function mismatchError(
  ours: WireSide,
  seen: WireProtocol,
  prefix: Buffer,
  cause?: unknown,
): RpcProtocolError {
  const what = seen === 'gob' ? 'binary data that looks like gob' : `${NAMES[seen]} (${firstLine(prefix)})`;
  return new RpcProtocolError(
    `rpc: the server answered with ${what}, not ${NAMES[ours.codec]}${ours.http ? ' over HTTP' : ''}; ${advice(ours, seen)}`,
    { cause, detected: seen },
  );
}

/**
 * probedError is the NETKIT_RPC_PROTOCOL error for a server that closed the
 * connection without one byte in answer to the first call (or to the HTTP
 * CONNECT), and answered a probe on a new connection in `seen`
 * (probe.ts); `detected` carries `seen`.
 */
export function probedError(
  ours: WireSide,
  handshake: boolean,
  seen: WireProtocol,
  prefix: Buffer,
): RpcProtocolError {
  const what = seen === 'gob' ? 'gob (Go net/rpc)' : `${NAMES[seen]} (${firstLine(prefix)})`;
  if (handshake) {
    const fix =
      seen === 'http'
        ? "it speaks HTTP but not Go's RPC handshake; if it serves JSON-RPC 2.0 over HTTP POST, use the jsonrpc2 codec (--codec jsonrpc2)"
        : advice(ours, seen);
    return new RpcProtocolError(
      `rpc: the server closed the connection without answering the HTTP CONNECT, and answers ${what} without HTTP; ${fix}`,
      { detected: seen },
    );
  }
  return new RpcProtocolError(
    `rpc: the server closed the connection without answering the first call in ${NAMES[ours.codec]}, ` +
      `and answers ${what} on a new connection; ${advice(ours, seen)}`,
    { detected: seen },
  );
}

/** probeCodec is the codec to probe a server with after it closed on `ours` without a word: the one that closes on it. */
export function probeCodec(ours: WireSide['codec']): 'gob' | 'json' {
  return ours === 'gob' ? 'json' : 'gob';
}
