import { endianness } from 'node:os';
import { joinHostPort } from '../addr/split.js';
import { stateFromCode, type TcpStateName } from './states.js';

/** TimerKind is the kernel timer pending on a socket (the `tr` column). */
export type TimerKind = 'off' | 'retransmit' | 'keepalive' | 'time_wait' | 'probe';

const TIMERS: readonly TimerKind[] = ['off', 'retransmit', 'keepalive', 'time_wait', 'probe'];

/** TcpSocket is one row of /proc/net/tcp or /proc/net/tcp6. */
export interface TcpSocket {
  /** family is 4 for /proc/net/tcp, 6 for /proc/net/tcp6. */
  family: 4 | 6;
  /** localIp and remoteIp are in their usual text form (`127.0.0.1`, `::1`). */
  localIp: string;
  /** localPort is the local port. */
  localPort: number;
  /** remoteIp is the peer's address; `0.0.0.0` or `::` for a listener. */
  remoteIp: string;
  /** remotePort is the peer's port, 0 for a listener. */
  remotePort: number;
  /** local and remote are Go-form `ip:port` (`[::1]:80` for IPv6). */
  local: string;
  /** remote is the peer's `ip:port`. */
  remote: string;
  /** state is the TCP state, as netstat names it. */
  state: TcpStateName;
  /** sendQueue and recvQueue are bytes queued; for LISTEN, recvQueue is the accept backlog (connections not yet accepted). */
  sendQueue: number;
  /** recvQueue is bytes received and not yet read (the accept backlog for LISTEN). */
  recvQueue: number;
  /** timer is the kernel timer pending (the `tr` column). */
  timer: TimerKind;
  /** timerMs is when the timer fires, in milliseconds from the sample. */
  timerMs: number;
  /** retransmits counts unrecovered retransmission timeouts (the `retrnsmt` column). */
  retransmits: number;
  /** uid is the socket owner's user id. */
  uid: number;
  /** inode identifies the socket (0 for TIME_WAIT and request sockets, which no process owns). */
  inode: number;
  /** pid and command name the owning process, when it could be read. */
  pid?: number;
  /** command is the owning process's name, from /proc/PID/comm. */
  command?: string;
}

// The kernel prints jiffies converted to clock ticks (USER_HZ), which is 100 on Linux.
const MS_PER_TICK = 10;
const LITTLE = endianness() === 'LE';

/**
 * parseProcNetTcp parses the text of /proc/net/tcp (family 4) or
 * /proc/net/tcp6 (family 6). Lines that do not parse are skipped: the file
 * is the kernel's, and a format change must not crash a monitoring tool.
 */
export function parseProcNetTcp(text: string, family: 4 | 6): TcpSocket[] {
  const out: TcpSocket[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const s = parseLine(lines[i] as string, family);
    if (s) out.push(s);
  }
  return out;
}

/*
 * A scanner over one line, reading numbers in place: a table of 10,000
 * sockets is 10,000 lines, and splitting each into substrings first made
 * parsing (and the garbage it left) dominate a scan. Module-level state
 * rather than a closure per line, for the same reason.
 */
let line = '';
let pos = 0;

function spaces(): void {
  while (line.charCodeAt(pos) === 32) pos++;
}

function digit(c: number, base: 10 | 16): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (base === 16 && c >= 65 && c <= 70) return c - 55;
  if (base === 16 && c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** num reads a number and requires what follows to be `end` (a space, a colon, or the end of the line). */
function num(base: 10 | 16, end: 32 | 58): number {
  const start = pos;
  let v = 0;
  for (let d = digit(line.charCodeAt(pos), base); d >= 0; d = digit(line.charCodeAt(++pos), base))
    v = v * base + d;
  const next = line.charCodeAt(pos);
  if (pos === start || !(next === end || (end === 32 && (Number.isNaN(next) || next === 13))))
    return Number.NaN;
  if (next === 58) pos++;
  return v;
}

/** endpoint reads `0100007F:1F90`: the address as the kernel's 32-bit words in host order, the port in hex. */
function endpoint(family: 4 | 6): { ip: string; port: number } | undefined {
  const start = pos;
  while (digit(line.charCodeAt(pos), 16) >= 0) pos++;
  const addr = line.slice(start, pos);
  if (line.charCodeAt(pos) !== 58 || addr.length !== (family === 4 ? 8 : 32)) return undefined;
  pos++;
  const port = num(16, 32);
  if (!(port <= 65535)) return undefined;
  let ip = ipCache.get(addr);
  if (ip === undefined) {
    ip = addressText(addr, family);
    if (ipCache.size > 10_000) ipCache.clear();
    // The length check above keeps the families apart: a key's length says which it is.
    ipCache.set(addr, ip);
  }
  return { ip, port };
}

// A busy server has thousands of sockets on a handful of addresses: format each once.
const ipCache = new Map<string, string>();

function addressText(hex: string, family: 4 | 6): string {
  const bytes = Buffer.alloc(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    const word = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    if (LITTLE) bytes.writeUInt32LE(word, w * 4);
    else bytes.writeUInt32BE(word, w * 4);
  }
  return family === 4 ? [...bytes].join('.') : ipv6Text(bytes);
}

function parseLine(text: string, family: 4 | 6): TcpSocket | undefined {
  line = text;
  pos = 0;
  spaces();
  if (Number.isNaN(num(10, 58))) return undefined; // sl
  spaces();
  const local = endpoint(family);
  spaces();
  const remote = endpoint(family);
  spaces();
  const state = stateFromCode(num(16, 32));
  spaces();
  const sendQueue = num(16, 58);
  const recvQueue = num(16, 32);
  spaces();
  const timer = num(16, 58);
  const ticks = num(16, 32);
  spaces();
  const retransmits = num(16, 32);
  spaces();
  const uid = num(10, 32);
  spaces();
  num(10, 32); // probes (the "timeout" column)
  spaces();
  const inode = num(10, 32);
  // A row with a column that is not a number is not a row this parser understands: skip it.
  if (
    !local ||
    !remote ||
    !state ||
    Number.isNaN(sendQueue + recvQueue + timer + ticks + retransmits + uid + inode)
  ) {
    return undefined;
  }
  return {
    family,
    localIp: local.ip,
    localPort: local.port,
    remoteIp: remote.ip,
    remotePort: remote.port,
    local: joinHostPort(local.ip, local.port),
    remote: joinHostPort(remote.ip, remote.port),
    state,
    sendQueue,
    recvQueue,
    timer: TIMERS[timer] ?? 'off',
    timerMs: ticks * MS_PER_TICK,
    retransmits,
    uid,
    inode,
  };
}

/** ipv6Text formats 16 bytes as RFC 5952 text (`::1`, `::ffff:127.0.0.1`). */
export function ipv6Text(b: Buffer): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${[...b.subarray(12)].join('.')}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  // The longest run of two or more zero groups becomes `::` (the first, on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
