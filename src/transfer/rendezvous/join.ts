import {
  AbortError,
  ConnectionError,
  isNetkitError,
  type RendezvousCode,
  RendezvousError,
  TimeoutError,
} from '../../errors.js';
import { checkMs, checkObject, checkOneOf, checkSignal } from '../../internal/validate.js';
import { type Conn, dial, type KeepAliveOptions } from '../../tcp/index.js';
import { resolveTlsClient, type TlsClientOptions } from '../../tls/client.js';
import type { ProxyInput } from '../../tunnel/index.js';
import { safeMessage } from '../paths.js';
import {
  checkRoom,
  ERROR_CODE_PATTERN,
  joinBytes,
  MAX_FRAME_BYTES,
  parseServerFrame,
  protocolError,
  ROLES,
  type Role,
  type ServerFrame,
} from './protocol.js';

/** JoinOptions configure joinRendezvous(). Durations are milliseconds. */
export interface JoinOptions {
  /** room is the room to join: the code's first component (not secret). */
  room: string;
  /** role is this side's: `send` or `recv`; the room pairs one of each. */
  role: Role;
  /**
   * connectTimeout bounds the dial and the rendezvous's first answer
   * (`waiting` or `paired`, sent at once by a live rendezvous), so a
   * black-holed one fails in time; the wait for the peer is not bounded
   * here (the rendezvous's roomTimeout, or `signal`). Default 10 s.
   */
  connectTimeout?: number;
  /** network is tcp (default), tcp4, tcp6, or unix (or give the address as `unix:/path`). */
  network?: string;
  /** tls speaks TLS to the rendezvous (`true`: the system's roots; or a CA, a pin: see TlsClientOptions). */
  tls?: TlsClientOptions | boolean;
  /** proxy reaches the rendezvous through a forward proxy (see dial()'s `proxy`). */
  proxy?: ProxyInput | undefined;
  /** keepAlive for the connection; Go's default (15 s idle) when omitted. */
  keepAlive?: KeepAliveOptions;
  /** highWaterMark is how many unread bytes the returned Conn buffers before pausing the socket. */
  highWaterMark?: number;
  /** signal aborts the dial and the wait (NETKIT_ABORTED). */
  signal?: AbortSignal;
  /** onWaiting is called once the rendezvous holds this side's slot and the peer is not there yet. */
  onWaiting?: () => void;
}

/** JOIN_DEFAULTS are joinRendezvous()'s defaults. */
export const JOIN_DEFAULTS = Object.freeze({
  /** 10 s for the dial to the rendezvous. */
  connectTimeout: 10_000,
});

/** MAX_SHOWN_MESSAGE bounds how much of a rendezvous's error message is kept. */
const MAX_SHOWN_MESSAGE = 300;

/**
 * joinRendezvous dials the rendezvous, joins the room and resolves with the
 * Conn once paired (bytes after `paired` stay readable on the Conn). A
 * refusal from the rendezvous rejects with its RendezvousError (`remote:
 * true`): NETKIT_RENDEZVOUS_FULL, _LIMIT, _EXPIRED, _PROTOCOL. Dial
 * failures reject as dial() does; `signal` rejects with NETKIT_ABORTED.
 */
export async function joinRendezvous(address: string, options: JoinOptions): Promise<Conn> {
  checkObject('options', options, true);
  const room = checkRoom(options.room);
  const role = checkOneOf('role', options.role, ROLES);
  const connectTimeout = checkMs('connectTimeout', options.connectTimeout ?? JOIN_DEFAULTS.connectTimeout);
  const signal = checkSignal(options.signal);
  // Checked now rather than at the dial: a bad pin or CA fails before anything is sent.
  resolveTlsClient(options.tls);
  const conn = await dial(address, {
    ...(options.network !== undefined ? { network: options.network } : {}),
    timeout: connectTimeout,
    ...(signal ? { signal } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
    ...(options.keepAlive !== undefined ? { keepAlive: options.keepAlive } : {}),
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
  });
  let answered = false;
  const onAbort = () => conn.destroy(new AbortError('join', signal?.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  const noAnswer =
    connectTimeout > 0
      ? setTimeout(
          () =>
            conn.destroy(
              new TimeoutError(
                'NETKIT_TIMEOUT',
                'read',
                `the rendezvous at ${address} did not answer within ${connectTimeout} ms`,
                connectTimeout,
              ),
            ),
          connectTimeout,
        )
      : undefined;
  try {
    await conn.write(joinBytes(room, role));
    for (;;) {
      const frame = await readFrame(conn, room);
      if (!answered) clearTimeout(noAnswer);
      answered = true;
      if (frame.type === 'paired') return conn;
      if (frame.type === 'waiting') options.onWaiting?.();
      else throw remoteError(frame, room);
    }
  } catch (err) {
    conn.destroy();
    if (signal?.aborted) throw new AbortError('join', signal.reason);
    throw explain(err, address, room, answered);
  } finally {
    clearTimeout(noAnswer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** readFrame reads one frame; readFull leaves whatever follows it in the Conn's buffer. */
async function readFrame(conn: Conn, room: string): Promise<ServerFrame> {
  const length = (await conn.readFull(4)).readUInt32BE(0);
  if (length > MAX_FRAME_BYTES) {
    throw protocolError(`the rendezvous sent a frame of ${length} bytes (the limit is ${MAX_FRAME_BYTES})`, {
      room,
    });
  }
  return parseServerFrame(await conn.readFull(length), room);
}

/**
 * remoteError is the rendezvous's refusal as a RendezvousError. Only a
 * code of the rendezvous family is taken as sent (a newer rendezvous may
 * send one this version does not list); the message is the peer's text,
 * escaped and shortened before anyone prints it.
 */
function remoteError(frame: { code: string; message: string }, room: string): RendezvousError {
  const text = safeMessage(frame.message.slice(0, MAX_SHOWN_MESSAGE));
  if (!ERROR_CODE_PATTERN.test(frame.code)) {
    return protocolError(`the rendezvous refused with an unknown code: ${text}`, { room, remote: true });
  }
  return new RendezvousError(frame.code as RendezvousCode, `rendezvous: ${text}`, { room, remote: true });
}

/** explain turns the connection ending before `paired` into what it means for the join. */
function explain(err: unknown, address: string, room: string, answered: boolean): unknown {
  if (!isNetkitError(err, 'NETKIT_FRAME_TRUNCATED') && !isNetkitError(err, 'NETKIT_CONNECTION_CLOSED'))
    return err;
  // A rendezvous that answered and then hung up was stopped; one that never answered may not be a rendezvous.
  if (answered) {
    return new ConnectionError(
      'NETKIT_CONNECTION_CLOSED',
      `the rendezvous at ${address} closed the connection while room ${room} waited for its peer`,
      address,
      { cause: err },
    );
  }
  return protocolError(
    `${address} closed the connection without answering the join: is it a netkit rendezvous (version 1)?`,
    { room },
  );
}
