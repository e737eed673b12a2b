/**
 * What `netkit relay --dump text|hex` prints for each relayed chunk, in the
 * manner of `socat -v` / `socat -x`: a header saying which connection, which
 * way, where in the stream and when, then the bytes. Every byte a peer sent
 * is shown, none of them raw: a dump is exactly where hostile bytes meet a
 * terminal.
 */
import { hexDump, safeText } from '../internal/text.js';
import { checkInt } from '../internal/validate.js';
import type { Stream } from './types.js';

/** DumpMode is how a chunk's bytes are shown: escaped text, or `xxd`-style hex. */
export type DumpMode = 'text' | 'hex';

/** DumpChunk is one chunk relayed in one direction of one connection. */
export interface DumpChunk {
  /** id is the connection's id (ConnSummary.id). */
  id: number;
  /** stream is the direction: upstream is client → target. */
  stream: Stream;
  /** offset is how many bytes this direction carried before this chunk. */
  offset: number;
  /** time is when the chunk was read, as Date.now(). */
  time: number;
  /** bytes are the chunk's bytes, as read. */
  bytes: Buffer;
}

/** DumpOptions limits how much of a chunk is shown. */
export interface DumpOptions {
  /** maxBytes shows at most this many bytes of a chunk and says how many were left out (default: all). */
  maxBytes?: number;
}

/** DumpEvent is a chunk as one `--json` line; exactly one of `text` and `hex` is set. */
export interface DumpEvent {
  /** event is always 'data', to tell these lines from the relay's other `--json` lines. */
  event: 'data';
  /** id is the connection's number, as in its open and close events. */
  id: number;
  /** stream is the direction: upstream is client → target. */
  stream: Stream;
  /** offset is how many bytes this direction carried before this chunk. */
  offset: number;
  /** time is ISO 8601 in UTC. */
  time: string;
  /** length is the chunk's full length, shown or not. */
  length: number;
  /** text is the chunk as escaped text (`--dump text`). */
  text?: string;
  /** hex is the chunk as hex (`--dump hex`). */
  hex?: string;
  /** omitted is the number of bytes left out by maxBytes, when any were. */
  omitted?: number;
}

/**
 * INDENT sets the bytes apart from the headers, so that a peer sending
 * `\n> 2026-…` cannot forge a header line in somebody's dump.
 */
const INDENT = '  ';

const NL = 0x0a;
const BACKSLASH = 0x5c;

/**
 * formatDump renders one chunk for people: a header line such as
 * `> 2026-12-07T06:10:00.123Z #3 client → target  offset 1024  (17 bytes)`
 * (`<` and `←` for downstream), then the bytes, indented. Text mode escapes
 * every control byte (`\r`, `\n`, `\t`, else `\xHH`), bytes that are not
 * UTF-8 and a literal backslash (`\\`), and starts a new line after each
 * `\n`; hex mode prints `xxd` lines whose offsets continue from the
 * chunk's offset. The result has no trailing newline.
 */
export function formatDump(chunk: DumpChunk, mode: DumpMode, options: DumpOptions = {}): string {
  const { shown, omitted } = cut(chunk.bytes, options.maxBytes);
  const up = chunk.stream === 'upstream';
  const n = chunk.bytes.length;
  const lines = [
    `${up ? '>' : '<'} ${new Date(chunk.time).toISOString()} #${chunk.id} client ${up ? '→' : '←'} target  offset ${chunk.offset}  (${n} ${n === 1 ? 'byte' : 'bytes'})`,
  ];
  if (shown.length > 0) {
    const body = mode === 'hex' ? hexDump(shown, chunk.offset).split('\n') : textLines(shown);
    for (const line of body) lines.push(INDENT + line);
  }
  if (omitted > 0) lines.push(`${INDENT}… ${omitted} more ${omitted === 1 ? 'byte' : 'bytes'} not shown`);
  return lines.join('\n');
}

/**
 * dumpEvent is formatDump's information as a plain object for `--json`:
 * `text` is escaped as in text mode but on one line, `hex` is the bytes as
 * plain lower-case hex. Serialize it with jsonLine.
 */
export function dumpEvent(chunk: DumpChunk, mode: DumpMode, options: DumpOptions = {}): DumpEvent {
  const { shown, omitted } = cut(chunk.bytes, options.maxBytes);
  const event: DumpEvent = {
    event: 'data',
    id: chunk.id,
    stream: chunk.stream,
    offset: chunk.offset,
    time: new Date(chunk.time).toISOString(),
    length: chunk.bytes.length,
  };
  if (mode === 'hex') event.hex = shown.toString('hex');
  else event.text = textLines(shown).join('');
  if (omitted > 0) event.omitted = omitted;
  return event;
}

function cut(bytes: Buffer, maxBytes: number | undefined): { shown: Buffer; omitted: number } {
  if (maxBytes === undefined) return { shown: bytes, omitted: 0 };
  checkInt('maxBytes', maxBytes, 0, Number.MAX_SAFE_INTEGER);
  if (bytes.length <= maxBytes) return { shown: bytes, omitted: 0 };
  return { shown: bytes.subarray(0, maxBytes), omitted: bytes.length - maxBytes };
}

/**
 * textLines escapes `bytes` and breaks them after each `\n`. It splits at
 * newlines and backslashes before decoding, which is safe because in UTF-8
 * an ASCII byte is never part of a longer sequence; escaping the backslash
 * itself keeps a peer's literal `\n` text apart from a real newline.
 */
function textLines(bytes: Buffer): string[] {
  const lines: string[] = [];
  let line = '';
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c !== NL && c !== BACKSLASH) continue;
    line += escapeRun(bytes.subarray(start, i));
    start = i + 1;
    if (c === BACKSLASH) {
      line += '\\\\';
    } else {
      lines.push(`${line}\\n`);
      line = '';
    }
  }
  line += escapeRun(bytes.subarray(start));
  if (line !== '') lines.push(line);
  return lines;
}

const escapeRun = (bytes: Buffer) => (bytes.length === 0 ? '' : safeText(bytes, { keepTabs: false }));
