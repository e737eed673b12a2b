import { InvalidArgumentError } from '../../errors.js';
import { formatDuration } from '../../internal/duration.js';
import { formatBytes } from '../../internal/text.js';
import type { RelayOptions } from '../../relay/index.js';
import type { RendezvousEvent, RendezvousOptions } from '../../transfer/rendezvous/index.js';
import { type Command, Option } from '../commander.js';
import { bytesOption, durationOption, intOption } from '../options.js';
import type { Output } from '../output.js';
import { ephemeralHosts } from '../server-tls.js';

/**
 * `netkit relay --rendezvous ADDR`: the rendezvous that pairs a sender and
 * a receiver by the room of their code and pipes their encrypted bytes.
 * Its flags, its listen address (the relay's listen-side flags apply to it
 * too), and its events as --json objects or short lines.
 */

/** RendezvousFlags are the relay command's rendezvous flags as parsed. */
export interface RendezvousFlags {
  rendezvous?: string;
  maxRooms: number;
  roomTimeout: number;
  roomBytes?: number;
  roomTime?: number;
}

const GROUP = 'Rendezvous (pairs netkit send and recv by the room of their code):';
/** LIMIT_FLAGS are the flags that only mean something with --rendezvous, by commander's key. */
const LIMIT_FLAGS: Record<string, string> = {
  maxRooms: '--max-rooms',
  roomTimeout: '--room-timeout',
  roomBytes: '--room-bytes',
  roomTime: '--room-time',
};

/** addRendezvousFlags adds --rendezvous and its limits; defaults are the library's. */
export function addRendezvousFlags(cmd: Command): Command {
  const add = (o: Option) => cmd.addOption(o.helpGroup(GROUP));
  add(
    new Option(
      '--rendezvous <address>',
      'serve a rendezvous here: HOST:PORT, tls:HOST:PORT or unix:PATH (alone: a rendezvous server)',
    ),
  );
  add(
    intOption(
      '--max-rooms <n>',
      'rooms at once, waiting or paired; past it a join is refused',
      1,
      1_000_000,
      1000,
    ),
  );
  add(durationOption('--room-timeout <duration>', 'how long a client may wait alone for its peer', '10m'));
  add(bytesOption('--room-bytes <size>', 'bytes a paired room may carry, both ways together (0 = no limit)'));
  add(durationOption('--room-time <duration>', 'how long a paired room may last (0 = no limit)'));
  return cmd;
}

/** checkRendezvousFlags refuses a rendezvous limit given without --rendezvous: it would do nothing. */
export function checkRendezvousFlags(cmd: Command, flags: RendezvousFlags): void {
  if (flags.rendezvous !== undefined) return;
  for (const [key, flag] of Object.entries(LIMIT_FLAGS)) {
    if (cmd.getOptionValueSource(key) === 'cli') {
      throw new InvalidArgumentError(flag, 'limits a rendezvous: give --rendezvous ADDR too');
    }
  }
}

/** listenAddress reads --rendezvous: `HOST:PORT`, `tcp:HOST:PORT`, `tls:HOST:PORT` or `unix:PATH`. */
export function listenAddress(text: string): { address: string; tls: boolean; unix: boolean } {
  const lower = text.toLowerCase();
  if (lower.startsWith('tls:')) return { address: text.slice(4), tls: true, unix: false };
  if (lower.startsWith('tcp:')) return { address: text.slice(4), tls: false, unix: false };
  if (lower.startsWith('unix:')) return { address: text, tls: false, unix: true };
  if (text === '-' || /^(wss?|udp|exec):/i.test(text)) {
    throw new InvalidArgumentError(
      '--rendezvous',
      `${text}: a rendezvous listens on HOST:PORT, tls:HOST:PORT or unix:PATH`,
    );
  }
  return { address: text, tls: false, unix: false };
}

/** RunningRendezvous is what the relay command keeps of a started rendezvous: how to close it. */
export interface RunningRendezvous {
  close(): Promise<void>;
}

/**
 * startRendezvous serves --rendezvous with the relay's listen-side options
 * (`common`: network, Unix socket mode, PROXY protocol, TLS certificate,
 * shutdown timeout; --idle-timeout as its idle timeout) and prints its events.
 * `alone` is true when no relay listens next to it: then a listen-side
 * flag that does not fit its address is refused instead of ignored.
 */
export async function startRendezvous(
  log: Output,
  flags: RendezvousFlags & { idleTimeout?: number; quiet?: boolean; cert?: string },
  common: Omit<RelayOptions, 'listen' | 'targets'>,
  alone: boolean,
): Promise<RunningRendezvous> {
  const lib = await import('../../transfer/rendezvous/index.js');
  const at = listenAddress(flags.rendezvous as string);
  const tls =
    at.tls && typeof common.tls === 'object'
      ? {
          ...common.tls,
          // An ephemeral certificate names the rendezvous's own host, not the relay's.
          ...(flags.cert === undefined ? { hosts: ephemeralHosts(at.address, false) } : {}),
        }
      : undefined;
  const options: RendezvousOptions = {
    maxRooms: flags.maxRooms,
    roomTimeout: flags.roomTimeout,
    ...(flags.roomBytes !== undefined ? { maxRoomBytes: flags.roomBytes } : {}),
    ...(flags.roomTime !== undefined ? { maxRoomTime: flags.roomTime } : {}),
    ...(flags.idleTimeout !== undefined ? { idleTimeout: flags.idleTimeout } : {}),
    ...(common.shutdownTimeout !== undefined ? { shutdownTimeout: common.shutdownTimeout } : {}),
    ...(common.network !== undefined ? { network: common.network } : {}),
    ...(common.socketMode !== undefined && (at.unix || alone) ? { socketMode: common.socketMode } : {}),
    ...(common.proxy !== undefined && (!at.unix || alone) ? { proxy: common.proxy } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(common.signal !== undefined ? { signal: common.signal } : {}),
    onEvent: printer(log, Boolean(flags.quiet) && !log.json),
  };
  const r = await lib.serveRendezvous(at.address, options);
  const bound = r.addr.network === 'unix' ? `unix:${r.addr.address}` : r.addr.address;
  const fingerprint = r.tls?.fingerprint;
  const limits = [
    `up to ${flags.maxRooms} rooms`,
    `${formatDuration(flags.roomTimeout)} alone`,
    ...(flags.roomBytes ? [`${formatBytes(flags.roomBytes)} a room`] : []),
    ...(flags.roomTime ? [`${formatDuration(flags.roomTime)} a room`] : []),
  ];
  log.event(
    'listening',
    {
      kind: 'rendezvous',
      address: bound,
      tls: at.tls,
      ...(fingerprint !== undefined ? { fingerprint } : {}),
      maxRooms: flags.maxRooms,
      roomTimeout: flags.roomTimeout,
      roomBytes: flags.roomBytes ?? 0,
      roomTime: flags.roomTime ?? 0,
    },
    `rendezvous on ${at.tls ? 'tls:' : ''}${bound} (${limits.join(', ')})${fingerprint ? `, certificate ${fingerprint}` : ''}`,
  );
  return r;
}

const ROLE = { send: 'sender', recv: 'receiver' } as const;

/** printer shows each event: one JSON object, or a line on stderr (refusals even with -q). */
function printer(log: Output, quiet: boolean): (e: RendezvousEvent) => void {
  return (e) => {
    const { type, ...fields } = e;
    if (quiet && type !== 'refused') return;
    log.note(type, fields, line(e));
  };
}

/** line is an event for people; every field in it is an address, a checked room name or our own text. */
function line(e: RendezvousEvent): string {
  switch (e.type) {
    case 'waiting':
      return `room ${e.room}: ${ROLE[e.role]} ${e.peer} waiting`;
    case 'paired':
      return `room ${e.room}: sender ${e.sender} ↔ receiver ${e.receiver}`;
    case 'refused':
      return `refused ${e.peer}${e.room !== undefined ? ` (room ${e.room})` : ''}: ${e.reason} [${e.code}]`;
    case 'closed':
      return `room ${e.room} closed: → receiver ${formatBytes(e.bytes.toReceiver)}, → sender ${formatBytes(e.bytes.toSender)} in ${formatDuration(e.seconds * 1000)}; ${e.reason}${e.code ? ` [${e.code}]` : ''}`;
  }
}
