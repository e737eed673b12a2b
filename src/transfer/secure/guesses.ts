import { AbortError, TransferError } from '../../errors.js';
import type { ReceiverGate } from './handshake.js';

/**
 * Guesses slows a receiver down after wrong codes. Each connection gets
 * one guess (the PAKE's property), so an attacker's only lever is the
 * number of connections; after GUESS_DEFAULTS.free wrong codes in a row,
 * handshakes are answered one at a time, DELAY_MS apart, doubled per
 * further wrong code up to MAX_DELAY_MS. A right code resets the count.
 *
 * Waiting handshakes form a queue. One whose connection closes while it
 * waits leaves the queue without using a turn, and a newcomer that would
 * wait longer than `maxWaitMs` (under the handshake timeout) is refused at
 * once with NETKIT_TRANSFER_BUSY rather than queued: nobody waits for a
 * turn that the handshake timeout would take away, and a flood of hellos
 * cannot book turns ahead of an honest sender. At 33 bits per generated
 * code and 4 s per guess, guessing takes centuries.
 */
export const GUESS_DEFAULTS = Object.freeze({ free: 3, delayMs: 250, maxDelayMs: 4000 });
/** GLOBAL_FREE is how many wrong codes from sources not yet slowed the whole receiver takes before it slows everyone. */
export const GLOBAL_FREE = 20;
/** MAX_SOURCES bounds the sources remembered (the least recently seen is forgotten). */
export const MAX_SOURCES = 4096;

interface Waiter {
  go: () => void;
  gone: boolean;
}

export class Guesses implements ReceiverGate {
  #failures = 0;
  /**
   * #answered counts handshakes answered whose guess is not settled yet (no
   * right() or wrong() so far). The answer is all a guesser needs, so these
   * count as misses when spacing answers: counting only settled guesses let
   * a burst of connections that hold on after their answer get one answer
   * each at once (64 at a time), with the slow-down starting only after.
   */
  #answered = 0;
  /** #lastAt is when the last handshake was answered (Date.now()): the next slowed one waits the delay after it. */
  #lastAt = 0;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #maxWaitMs: number;

  readonly #free: number;

  /** maxWaitMs bounds a handshake's wait for its turn (default 60 s); `free` wrong codes pass before it slows. */
  constructor(maxWaitMs = 60_000, free: number = GUESS_DEFAULTS.free) {
    this.#maxWaitMs = maxWaitMs;
    this.#free = free;
  }

  /** failures is the count of wrong codes since the last right one. */
  get failures(): number {
    return this.#failures;
  }

  /** delayMs is the spacing between answered handshakes now (0: not slowed). */
  get delayMs(): number {
    return spacing(this.#failures, this.#free);
  }

  /**
   * turn resolves when this handshake may answer. It rejects with
   * NETKIT_TRANSFER_BUSY when the wait would pass `maxWaitMs` (the
   * receiver's, by default): at once when the queue says so, or when the
   * time runs out in the queue (misses not yet settled can stretch it), so
   * a waiting sender is always told, never cut by the handshake deadline.
   */
  turn(signal?: AbortSignal, maxWaitMs: number = this.#maxWaitMs): Promise<void> {
    const delay = spacing(this.#failures + this.#answered, this.#free);
    if (delay === 0 && this.#queue.length === 0) {
      this.#answer();
      return Promise.resolve();
    }
    // The estimate counts settled misses only: honest senders arriving together are
    // answered within a round trip each, and are not told "busy" on a worst case.
    const settled = this.delayMs;
    const waiting = this.#queue.filter((w) => !w.gone).length;
    const eta = Math.max(0, this.#lastAt + settled - Date.now()) + waiting * settled;
    const busy = (after: number) =>
      new TransferError(
        'NETKIT_TRANSFER_BUSY',
        `the receiver is slowing down after ${this.#failures} wrong codes in a row and has ${waiting} handshakes waiting: try again in ${Math.ceil(after / 1000)} s`,
      );
    if (eta > maxWaitMs) return Promise.reject(busy(eta));
    return new Promise((resolve, reject) => {
      const late = setTimeout(() => {
        if (w.gone) return;
        w.gone = true;
        reject(busy(this.delayMs));
      }, maxWaitMs);
      late.unref();
      const w: Waiter = {
        go: () => {
          clearTimeout(late);
          resolve();
        },
        gone: false,
      };
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(late);
          w.gone = true;
          reject(new AbortError('handshake', signal.reason));
        },
        { once: true },
      );
      this.#queue.push(w);
      this.#pump();
    });
  }

  /** pump answers the next live waiter once the spacing since the last answer has passed. */
  #pump(): void {
    if (this.#timer !== null) return;
    while (this.#queue[0]?.gone) this.#queue.shift();
    if (this.#queue.length === 0) return;
    const wait = Math.max(
      0,
      this.#lastAt + spacing(this.#failures + this.#answered, this.#free) - Date.now(),
    );
    this.#timer = setTimeout(() => {
      this.#timer = null;
      while (this.#queue[0]?.gone) this.#queue.shift();
      const w = this.#queue.shift();
      if (w !== undefined) {
        this.#answer();
        w.go();
      }
      this.#pump();
    }, wait);
    this.#timer.unref();
  }

  #answer(): void {
    this.#lastAt = Date.now();
    this.#answered++;
  }

  /** release takes back an answer that was never given (the handshake stopped before it). */
  release(): void {
    this.#answered = Math.max(0, this.#answered - 1);
  }

  wrong(): void {
    this.#answered = Math.max(0, this.#answered - 1);
    this.#failures++;
  }

  right(): void {
    this.#answered = Math.max(0, this.#answered - 1);
    this.#failures = 0;
  }
}

/** spacing is the delay between answers after `misses` wrong (or unsettled) guesses, `free` of them free. */
function spacing(misses: number, free: number): number {
  const over = misses - free;
  if (over < 0) return 0;
  return Math.min(GUESS_DEFAULTS.delayMs * 2 ** over, GUESS_DEFAULTS.maxDelayMs);
}

/**
 * GuessGates keeps the slow-down per source address (an IPv4 address, an
 * IPv6 /64, or "unix"), so a guesser slows itself, not the senders on other
 * addresses: one address kept the whole receiver at 4 s per answer, and an
 * honest sender elsewhere was told "busy" on every try. A global Guesses
 * backs it: it counts the wrong codes of sources not yet slowed, so an
 * attacker spreading guesses over many addresses still slows everyone after
 * GLOBAL_FREE of them (denial of service by many addresses remains possible;
 * fast guessing does not).
 */
export class GuessGates {
  readonly #global: Guesses;
  readonly #sources = new Map<string, Guesses>();
  readonly #maxWaitMs: number;

  constructor(maxWaitMs?: number) {
    this.#maxWaitMs = maxWaitMs ?? 60_000;
    this.#global = new Guesses(maxWaitMs, GLOBAL_FREE);
  }

  /** gate is the gate of one handshake from `source`; `onWrong` hears its source's count and delay on a wrong code. */
  gate(source: string, onWrong?: (failures: number, delayMs: number) => void): ReceiverGate {
    const key = sourceKey(source);
    let mine = this.#sources.get(key);
    if (mine === undefined) {
      mine = new Guesses(this.#maxWaitMs);
      if (this.#sources.size >= MAX_SOURCES) this.#sources.delete(this.#sources.keys().next().value!);
    } else this.#sources.delete(key);
    // Re-inserted: the map's order is least recently seen first.
    this.#sources.set(key, mine);
    const own = mine;
    const global = this.#global;
    let counted = false;
    return {
      turn: async (signal) => {
        // Only a source that is not slowed yet spends the global allowance.
        counted = own.delayMs === 0;
        const deadline = Date.now() + this.#maxWaitMs;
        await own.turn(signal);
        if (!counted) return;
        try {
          await global.turn(signal, Math.max(0, deadline - Date.now()));
        } catch (err) {
          // Not answered after all (busy, or gone while waiting): no guess was made.
          own.release();
          throw err;
        }
      },
      wrong: () => {
        own.wrong();
        if (counted) global.wrong();
        onWrong?.(own.failures, Math.max(own.delayMs, global.delayMs));
      },
      right: () => {
        own.right();
        if (counted) global.right();
      },
    };
  }
}

/** sourceKey groups addresses by who controls them: an IPv4 address, an IPv6 /64, anything else whole. */
export function sourceKey(address: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  if (address.includes(':')) {
    const groups = expand(address);
    if (groups !== null) return `${groups.slice(0, 4).join(':')}::/64`;
  }
  return address || 'unknown';
}

/** expand writes an IPv6 address as its eight groups, or null when it is not one. */
function expand(address: string): string[] | null {
  const plain = address.split('%')[0]!;
  const halves = plain.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array(missing).fill('0'), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g)) ? groups.map((g) => g.toLowerCase()) : null;
}
