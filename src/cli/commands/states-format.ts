import { InvalidArgumentError } from '../../errors.js';
import type { StateChange, TcpSocket, TcpStateName } from '../../tcpstate/index.js';
import { TCP_STATES } from '../../tcpstate/index.js';
import type { Output } from '../output.js';

/** ORDER lists states for display: listeners, open connections, then the closing states in the order they happen. */
const ORDER: readonly TcpStateName[] = [
  'LISTEN',
  'SYN_SENT',
  'SYN_RECV',
  'NEW_SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'CLOSE_WAIT',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
];

/** owner renders a socket's process as `command/pid`, or `-` when unknown (not ours to see, or TIME_WAIT). */
export function owner(s: TcpSocket): string {
  return s.pid === undefined ? '-' : `${s.command ?? '?'}/${s.pid}`;
}

function timer(s: TcpSocket): string {
  return s.timer === 'off' ? '-' : `${s.timer} ${(s.timerMs / 1000).toFixed(1)}s`;
}

/** socketFields is a socket as a JSON event's fields. */
export function socketFields(s: TcpSocket): Record<string, unknown> {
  return {
    state: s.state,
    local: s.local,
    remote: s.remote,
    family: s.family,
    recvQueue: s.recvQueue,
    sendQueue: s.sendQueue,
    timer: s.timer,
    timerMs: s.timerMs,
    retransmits: s.retransmits,
    uid: s.uid,
    inode: s.inode,
    pid: s.pid,
    command: s.command,
  };
}

/** countByState counts sockets per state, in display order, leaving out states with none. */
export function countByState(sockets: readonly TcpSocket[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const state of ORDER) {
    const n = sockets.filter((s) => s.state === state).length;
    if (n > 0) counts[state] = n;
  }
  return counts;
}

/** printTable prints sockets grouped by state, then a summary line (or JSON events). */
export function printTable(out: Output, sockets: readonly TcpSocket[]): void {
  const counts = countByState(sockets);
  if (out.json) {
    for (const s of sockets) out.event('socket', socketFields(s));
    out.event('summary', { total: sockets.length, states: counts });
    return;
  }
  // ss's (and netstat's) order: the queues, Recv-Q first, then the addresses.
  const rows: string[][] = [['', 'Recv-Q', 'Send-Q', 'Local', 'Remote', 'Timer', 'Process']];
  for (const state of ORDER) {
    const group = sockets
      .filter((s) => s.state === state)
      .sort((a, b) => a.localPort - b.localPort || a.remotePort - b.remotePort);
    if (group.length === 0) continue;
    rows.push([`${state} (${group.length})`]);
    for (const s of group) {
      rows.push(['', String(s.recvQueue), String(s.sendQueue), s.local, s.remote, timer(s), owner(s)]);
    }
  }
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.filter((r) => r.length > 1).map((r) => r[i]!.length)),
  );
  const lines = rows.map((r, i) => {
    if (r.length === 1) return out.paint('cyan', r[0]!);
    const line = r
      .map((c, j) => (j >= 1 && j <= 2 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!)))
      .join('  ');
    return i === 0 ? out.paint('dim', line.trimEnd()) : line.trimEnd();
  });
  for (const l of lines) out.event('line', {}, l);
  const summary = Object.entries(counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  out.event(
    'summary',
    {},
    `${sockets.length} socket${sockets.length === 1 ? '' : 's'}${summary ? `: ${summary}` : ''}`,
  );
}

const SIGN = { appeared: '+', changed: '~', vanished: '-' } as const;
const COLOR = { appeared: 'green', changed: 'yellow', vanished: 'dim' } as const;

/** printChange prints one difference between samples: highlighted on a terminal, an event with --json. */
export function printChange(out: Output, c: StateChange, at: Date): void {
  const s = c.socket;
  const time = at.toISOString().slice(11, 23);
  const state = c.kind === 'changed' ? `${c.from} -> ${s.state}` : s.state;
  out.event(
    'change',
    { time: at.toISOString(), kind: c.kind, from: c.from, ...socketFields(s) },
    `${time} ${out.paint(COLOR[c.kind], `${SIGN[c.kind]} ${state}`)} ${s.local} ${s.remote} ${owner(s)}`,
  );
}

/** parseStateName accepts kernel names in any case and ss/netstat spellings (ESTAB, CLOSE-WAIT, FIN_WAIT_2, SYN_RCVD). */
export function parseStateName(text: string): TcpStateName {
  const t = text
    .trim()
    .toUpperCase()
    .replaceAll('-', '_')
    .replace(/^FIN_WAIT_(\d)$/, 'FIN_WAIT$1');
  const alias: Record<string, TcpStateName> = {
    ESTAB: 'ESTABLISHED',
    SYN_RCVD: 'SYN_RECV',
    CLOSED: 'CLOSE',
    UNCONN: 'CLOSE',
  };
  const name = alias[t] ?? t;
  if (!(TCP_STATES as readonly string[]).includes(name)) {
    throw new InvalidArgumentError('--state', `unknown TCP state "${text}"; one of ${TCP_STATES.join(', ')}`);
  }
  return name as TcpStateName;
}
