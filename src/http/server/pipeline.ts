import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Pipelining limits for node:http (RELIABILITY 36). node:http parses every
 * pipelined request it reads and queues a response for each: 200,000
 * `GET /?delay=30s` written on one connection hold ~800 MiB, and a reset
 * then tears the queue down in quadratic time, stalling every client.
 *
 * Node's parser reads straight from the socket in C++ and parses a whole
 * read (up to 64 KiB) before JavaScript can stop it, so pausing the socket
 * alone does not stop it at N requests. A connection therefore starts on
 * that fast path and, the first time a request arrives while an earlier
 * response is still owed (pipelining), is switched to JavaScript feeding:
 * bytes are handed to node:http one request head at a time, and only while
 * fewer than `maxPending` requests are unanswered; otherwise the socket is
 * paused and the rest stays in its buffer (and the kernel's). Only the read
 * that revealed the pipelining can carry more; if, once their handlers have
 * had their turn, more than 4 × `maxPending` of them are unanswered, the
 * connection is closed, since nothing can stop node:http from parsing the
 * rest of that read.
 */

/** HEAD_END ends every request head; llhttp, strict as node:http runs it, accepts no other line ending. */
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * HeadSplitter cuts a byte stream into pieces that each complete at most
 * one request head: a piece ends right after a `\r\n\r\n`, found even when
 * it is split across chunks. Body bytes may hold `\r\n\r\n` too; cutting
 * there as well is harmless.
 */
export class HeadSplitter {
  /** carry is how many bytes of HEAD_END the bytes handed out so far end with (0 to 3). */
  #carry = 0;

  /** next returns how many bytes of `chunk` to hand out next, and remembers them. */
  next(chunk: Buffer): number {
    let cut = -1;
    const carry = this.#carry;
    if (carry > 0) {
      // A head end begun in the previous piece.
      let m = carry;
      for (let i = 0; i < chunk.length && chunk[i] === HEAD_END[m]; i++) {
        if (++m === 4) {
          cut = i + 1;
          break;
        }
      }
    }
    if (cut < 0) {
      const at = chunk.indexOf(HEAD_END);
      if (at >= 0) cut = at + 4;
    }
    if (cut >= 0) {
      this.#carry = 0;
      return cut;
    }
    // No head end: remember how much of one the stream now ends with.
    let m = chunk.length >= 3 ? 0 : carry;
    for (let i = Math.max(0, chunk.length - 3); i < chunk.length; i++) {
      const b = chunk[i];
      m = b === HEAD_END[m] ? m + 1 : b === 13 ? 1 : 0;
    }
    this.#carry = m;
    return chunk.length;
  }
}

/** HttpSocket is a server socket with the node:http fields this file reads. */
interface HttpSocket extends Socket {
  [kGate]?: Gate;
  /** _paused is node:http's own "stop reading" flag (its responses are not being read); its data listener asserts it is clear. */
  _paused?: boolean;
  /** parser is node:http's parser; null once the connection was upgraded or closed. */
  parser?: unknown;
  /** _httpMessage is the response that holds the socket now. */
  _httpMessage?: ServerResponse | null;
}

const kGate = Symbol('netkit.http.pipelineGate');

/** settled is every tracked response's 'close' listener (one function for all: no closure per request). */
function settled(this: ServerResponse): void {
  (this.req.socket as HttpSocket)[kGate]?.settle(this);
}

/** Gate bounds the unanswered requests of one pipelining connection. */
class Gate {
  readonly #socket: HttpSocket;
  readonly #max: number;
  /** open holds responses not known to be ended; ended ones are dropped lazily. */
  readonly #open = new Set<ServerResponse>();
  readonly #splitter = new HeadSplitter();
  /** #httpOnData is node:http's data listener, once bytes are fed to it from here. */
  #httpOnData: ((chunk: Buffer) => void) | undefined;
  /** #native: the socket's listeners were not as expected; fall back to pausing and resuming it. */
  #native = false;
  #blocked = false;
  #capCheck = false;
  readonly #onData = (chunk: Buffer) => this.#feed(chunk);

  /**
   * The gate is made while node:http parses a read; it takes over on the next
   * tick, once that read is parsed and before the socket can be read again.
   */
  constructor(socket: HttpSocket, max: number) {
    this.#socket = socket;
    this.#max = max;
    process.nextTick(() => this.#takeOver());
  }

  /** track counts a response as owed until it ends. */
  track(res: ServerResponse): void {
    this.#open.add(res);
    res.once('close', settled);
    const owed = this.#unanswered();
    if (owed > this.#max * 4 && !this.#capCheck) {
      // Parsed in one read by node:http, beyond what pausing can stop. Once the handlers have had
      // their turn (cheap answers are ended by then), close rather than hold what is still owed.
      this.#capCheck = true;
      setImmediate(() => {
        this.#capCheck = false;
        if (this.#unanswered() > this.#max * 4) this.#socket.destroy();
      });
    } else if (owed >= this.#max && !this.#blocked && this.#active()) this.#block();
  }

  /** #active is whether this gate controls reading yet. */
  #active(): boolean {
    return this.#httpOnData !== undefined || this.#native;
  }

  /** settle is called when a tracked response closes. */
  settle(res: ServerResponse): void {
    this.#open.delete(res);
    if (this.#blocked && this.#unanswered() < this.#max) this.#unblock();
  }

  #unanswered(): number {
    if (this.#open.size >= this.#max) {
      for (const r of this.#open) if (r.writableEnded) this.#open.delete(r);
    }
    return this.#open.size;
  }

  #block(): void {
    this.#blocked = true;
    this.#socket.pause();
  }

  #unblock(): void {
    const socket = this.#socket;
    if (socket.destroyed || !this.#active()) return;
    this.#blocked = false;
    // While node:http has paused the socket itself, it resumes it (and then 'data' brings us back).
    if (socket._paused !== true) socket.resume();
  }

  /** #takeOver puts this gate between the socket and node:http's parser. */
  #takeOver(): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.parser) return;
    if (socket._paused === true) {
      // node:http stopped reading (its answers are not being read). Take over once it reads again:
      // the socket can only be handed back to its own reading while its handle reads.
      socket.once('resume', () => this.#takeOver());
      return;
    }
    const listeners = socket.listeners('data');
    if (listeners.length !== 1) {
      this.#native = true;
    } else {
      this.#httpOnData = listeners[0] as (chunk: Buffer) => void;
      socket.removeListener('data', this.#httpOnData);
      // A 'data' listener makes node:http hand reading back to the socket (its parser stops consuming it).
      socket.on('data', this.#onData);
    }
    if (this.#unanswered() >= this.#max) this.#block();
  }

  /** #feed hands `chunk` to node:http one request head at a time while fewer than max are unanswered. */
  #feed(chunk: Buffer): void {
    const socket = this.#socket;
    const httpOnData = this.#httpOnData!;
    // Bytes arrive only while the socket flows, whoever resumed it.
    this.#blocked = false;
    let rest = chunk;
    while (rest.length > 0) {
      if (socket.destroyed) return;
      if (socket._paused === true || this.#unanswered() >= this.#max) {
        // Pause first: unshifting into a flowing stream would emit the bytes again at once.
        this.#block();
        socket.unshift(rest);
        return;
      }
      const n = this.#splitter.next(rest);
      const piece = n === rest.length ? rest : rest.subarray(0, n);
      rest = rest.subarray(n);
      httpOnData(piece);
      if (!socket.parser) {
        // Upgraded (WebSocket, CONNECT) or closed: the bytes after the head belong to the new owner.
        socket.removeListener('data', this.#onData);
        if (rest.length > 0 && !socket.destroyed) socket.unshift(rest);
        return;
      }
    }
  }
}

/**
 * limitPipelining wraps a request listener so that each connection has at
 * most `maxPending` requests read and not yet answered (see the top of this
 * file). Connections that do not pipeline keep node:http's fast path; the
 * cost on them is a few property reads per request.
 */
export function limitPipelining(listener: RequestListener, maxPending: number): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as HttpSocket;
    // Requests parsed after the connection was closed for pipelining too far ahead: nothing to answer.
    if (socket.destroyed) return;
    let gate = socket[kGate];
    if (gate === undefined && res.socket === null) {
      // An earlier response still holds the socket: this request was pipelined.
      gate = socket[kGate] = new Gate(socket, maxPending);
      const holder = socket._httpMessage;
      if (holder) gate.track(holder);
    }
    gate?.track(res);
    listener(req, res);
  };
}
