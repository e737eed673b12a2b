import net from 'node:net';
import type { Resolution } from '../addr/index.js';

/**
 * How dial() reaches a name with several addresses, after Go's Dialer
 * (net/dial.go): addresses in the resolver's order, split into primaries
 * (the first address's family) and fallbacks (the other family); primaries
 * are tried one after another, and if they have not connected within
 * FALLBACK_DELAY_MS the fallbacks start in parallel (Happy Eyeballs, RFC
 * 8305); the first connection wins and the other attempt is abandoned.
 */

/** FALLBACK_DELAY_MS is Go's default Dialer.FallbackDelay. */
export const FALLBACK_DELAY_MS = 300;

/** LocalBind is the local address a dial binds to. */
export interface LocalBind {
  ip: string;
  port: number;
  family: 4 | 6;
}

/** DialPlan is the addresses to try, by group. */
export interface DialPlan {
  primaries: string[];
  fallbacks: string[];
}

/**
 * planDial lists the hosts to connect to: an empty host means the local
 * system; otherwise every address the network's family filter kept (only
 * the local address's family when one is bound), zones attached.
 */
export function planDial(target: Resolution, local: LocalBind | undefined): DialPlan {
  if (target.ip === '')
    return { primaries: [target.network === 'tcp6' ? '::1' : '127.0.0.1'], fallbacks: [] };
  const withZone = (ip: string, zone: string) => (zone ? `${ip}%${zone}` : ip);
  const usable = target.candidates.filter(
    (c) => c.eligible && (local === undefined || c.family === local.family),
  );
  if (usable.length === 0) return { primaries: [withZone(target.ip, target.zone)], fallbacks: [] };
  const first = usable[0]!.family;
  return {
    primaries: usable.filter((c) => c.family === first).map((c) => withZone(c.ip, c.zone)),
    fallbacks: usable.filter((c) => c.family !== first).map((c) => withZone(c.ip, c.zone)),
  };
}

/**
 * dialPlan connects following `plan` and resolves with the first socket to
 * connect. When every address fails it rejects with the primaries' first
 * error (Go reports that one too); when `signal` aborts, with its reason.
 */
export function dialPlan(
  plan: DialPlan,
  port: number,
  local: LocalBind | undefined,
  signal: AbortSignal,
  deadline: number | undefined,
): Promise<net.Socket> {
  if (plan.fallbacks.length === 0) return dialSerial(plan.primaries, port, local, signal, deadline);
  const race = new AbortController();
  const onAbort = () => race.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolve, reject) => {
    let settled = false;
    let running = 0;
    let primaryError: unknown;
    let fallbackStarted = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const won = (socket: net.Socket) => {
      if (settled) {
        socket.destroy();
        return;
      }
      settle();
      race.abort(); // the slower attempt is abandoned
      resolve(socket);
    };
    const lost = (err: unknown, primary: boolean) => {
      if (primary) primaryError = err;
      if (--running > 0 || settled) return;
      if (primary && !fallbackStarted) {
        // The primaries failed fast: no need to wait for the fallback delay.
        startFallbacks();
        return;
      }
      settle();
      reject(signal.aborted ? signal.reason : (primaryError ?? err));
    };
    const startFallbacks = () => {
      if (fallbackStarted || settled) return;
      fallbackStarted = true;
      running++;
      dialSerial(plan.fallbacks, port, local, race.signal, deadline).then(won, (e) => lost(e, false));
    };
    running++;
    dialSerial(plan.primaries, port, local, race.signal, deadline).then(won, (e) => lost(e, true));
    const timer = setTimeout(startFallbacks, FALLBACK_DELAY_MS);
  });
}

/** dialSerial tries each host in turn, each with its share of the time left. */
async function dialSerial(
  hosts: readonly string[],
  port: number,
  local: LocalBind | undefined,
  signal: AbortSignal,
  deadline: number | undefined,
): Promise<net.Socket> {
  let firstError: unknown;
  for (const [i, host] of hosts.entries()) {
    try {
      return await connect(host, port, local, signal, partialTimeout(deadline, hosts.length - i));
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      firstError ??= err;
    }
  }
  throw firstError;
}

/**
 * partialTimeout is Go's partialDeadline: the time left is shared among the
 * addresses left, but each gets at least 2 s (or all that is left), so one
 * silent address cannot use up the whole timeout before the next is tried.
 * The last address runs until the dial's own deadline.
 */
function partialTimeout(deadline: number | undefined, remaining: number): number | undefined {
  if (deadline === undefined || remaining <= 1) return undefined;
  const left = Math.max(deadline - Date.now(), 1);
  const share = left / remaining;
  return share >= 2000 ? share : Math.min(left, 2000);
}

function connect(
  host: string,
  port: number,
  local: LocalBind | undefined,
  signal: AbortSignal,
  attemptMs: number | undefined,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    // allowHalfOpen: a peer's FIN must not close our write side (Go's model; see Conn.closeWrite).
    const socket = net.connect({
      host,
      port,
      allowHalfOpen: true,
      ...(local ? { localAddress: local.ip, localPort: local.port || undefined } : {}),
    });
    const done = () => {
      clearTimeout(attempt);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const attempt =
      attemptMs === undefined
        ? undefined
        : setTimeout(() => {
            done();
            socket.destroy();
            reject(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' }));
          }, attemptMs);
    socket.once('connect', () => {
      done();
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      done();
      socket.destroy();
      reject(err);
    });
  });
}
