import { endianness } from 'node:os';
import { stateFromCode, type TcpStateName } from './states.js';

/** TimerKind is the kernel timer pending on a socket (the `tr` column). */
export type TimerKind = 'off' | 'retransmit' | 'keepalive' | 'time_wait' | 'probe';

const TIMERS: readonly TimerKind[] = ['off', 'retransmit', 'keepalive', 'time_wait', 'probe'];

/** TcpSocket is one row of /proc/net/tcp or /proc/net/tcp6. */
export interface TcpSocket {
  family: 4 | 6;
  /** localIp and remoteIp are in their usual text form (`127.0.0.1`, `::1`). */
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  /** local and remote are Go-form `ip:port` (`[::1]:80` for IPv6). */
  local: string;
  remote: string;
  state: TcpStateName;
  /** sendQueue and recvQueue are bytes queued; for LISTEN, recvQueue is the accept backlog (connections not yet accepted). */
  sendQueue: number;
  recvQueue: number;
  timer: TimerKind;
  /** timerMs is when the timer fires, in milliseconds from the sample. */
  timerMs: number;
  retransmits: number;
  uid: number;
  /** inode identifies the socket (0 for TIME_WAIT and request sockets, which no process owns). */
  inode: number;
  /** pid and command name the owning process, when it could be read. */
  pid?: number;
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

const HEX = /^[0-9A-Fa-f]+$/;
const DEC = /^\d+$/;

function parseLine(line: string, family: 4 | 6): TcpSocket | undefined {
  const f = fields(line);
  if (f.length < 10) return undefined;
  const local = parseEndpoint(f[1] as string, family);
  const remote = parseEndpoint(f[2] as string, family);
  const state = stateFromCode(hex(f[3] as string));
  const [tx, rx] = (f[4] as string).split(':');
  const [tr, when] = (f[5] as string).split(':');
  const num = [hex(tx), hex(rx), hex(tr), hex(when), hex(f[6]), dec(f[7]), dec(f[9])];
  // A row with a column that is not a number is not a row this parser understands: skip it.
  if (!local || !remote || !state || num.some(Number.isNaN)) return undefined;
  const [sendQueue, recvQueue, timer, ticks, retransmits, uid, inode] = num as number[];
  return {
    family,
    localIp: local.ip,
    localPort: local.port,
    remoteIp: remote.ip,
    remotePort: remote.port,
    local: join(local.ip, local.port, family),
    remote: join(remote.ip, remote.port, family),
    state,
    sendQueue: sendQueue as number,
    recvQueue: recvQueue as number,
    timer: TIMERS[timer as number] ?? 'off',
    timerMs: (ticks as number) * MS_PER_TICK,
    retransmits: retransmits as number,
    uid: uid as number,
    inode: inode as number,
  };
}

function hex(s: string | undefined): number {
  return s !== undefined && HEX.test(s) ? Number.parseInt(s, 16) : Number.NaN;
}

function dec(s: string | undefined): number {
  return s !== undefined && DEC.test(s) ? Number.parseInt(s, 10) : Number.NaN;
}

/** fields splits a line on runs of spaces, up to the inode column (the rest is never used). */
function fields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n && out.length < 10) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    const start = i;
    while (i < n && line.charCodeAt(i) !== 32) i++;
    if (i > start) out.push(line.slice(start, i));
  }
  return out;
}

// A busy server has thousands of sockets on a handful of addresses: format each once.
const ipCache = new Map<string, string>();

/** parseEndpoint reads `0100007F:1F90`: the address as the kernel's 32-bit words in host order, the port in hex. */
function parseEndpoint(text: string, family: 4 | 6): { ip: string; port: number } | undefined {
  const colon = text.indexOf(':');
  const addr = text.slice(0, colon);
  const port = hex(text.slice(colon + 1));
  if (colon < 0 || addr.length !== (family === 4 ? 8 : 32) || !(port <= 65535)) return undefined;
  let ip = ipCache.get(addr);
  if (ip === undefined) {
    if (!HEX.test(addr)) return undefined;
    const bytes = Buffer.alloc(addr.length / 2);
    for (let w = 0; w < addr.length / 8; w++) {
      const word = Number.parseInt(addr.slice(w * 8, w * 8 + 8), 16);
      if (LITTLE) bytes.writeUInt32LE(word, w * 4);
      else bytes.writeUInt32BE(word, w * 4);
    }
    ip = family === 4 ? [...bytes].join('.') : ipv6Text(bytes);
    if (ipCache.size > 10_000) ipCache.clear();
    // The length check above keeps the families apart: the cache key's length says which it is.
    ipCache.set(addr, ip);
  }
  return { ip, port };
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

function join(ip: string, port: number, family: 4 | 6): string {
  return family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
