/**
 * Helpers for the transfer safety tests: temporary directories laid out so a
 * test can prove nothing escaped the receiving directory, a receiver that
 * records its summaries, send() to reach it the way a user would, and a raw
 * sender that speaks the cleartext protocol (1) by hand, so it can lie about
 * paths, sizes and checksums in ways sendFiles() never would. SealedSender
 * does the same inside an encrypted session, for the few tests that need
 * one held open by hand.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import {
  type FileReceiver,
  MAGIC,
  PROTOCOL_VERSION,
  type ReceiverOptions,
  type SendOptions,
  sendFiles,
  serveFiles,
  type TransferEvent,
  type TransferSummary,
} from '../../src/transfer/index.js';
import { magicOf, PLAIN_VERSION } from '../../src/transfer/protocol.js';
import { CodeSecret } from '../../src/transfer/secure/handshake.js';
import { until } from '../helpers/net.js';

/** PLAIN_MAGIC opens a cleartext (protocol 1) session, the one RawSender speaks. */
export const PLAIN_MAGIC = magicOf(PLAIN_VERSION);

/** Frame is a control frame as this test client sees it: any JSON object with a type. */
export type Frame = { type: string; [k: string]: unknown };

/** tempDir makes a fresh directory under the system temp dir, removed after the test. */
export async function tempDir(t: TestContext, prefix = 'netkit-transfer-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Layout is a temp `parent` holding the receiving directory `target` (and
 * `outside`, a sibling a symlink may point at). Anything a receiver writes
 * outside `target` shows up in `parent` or `outside`.
 */
export interface Layout {
  parent: string;
  target: string;
  outside: string;
}

export async function layout(t: TestContext, withOutside = false): Promise<Layout> {
  const parent = await tempDir(t);
  const target = path.join(parent, 'target');
  const outside = path.join(parent, 'outside');
  await mkdir(target);
  if (withOutside) await mkdir(outside);
  return { parent, target, outside };
}

/** tree lists a directory recursively without following symlinks: `d/` for directories, `l@` for links. */
export async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (abs: string, rel: string) => {
    for (const name of await readdir(abs)) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(path.join(abs, name));
      if (st.isSymbolicLink()) out.push(`${r}@`);
      else if (st.isDirectory()) {
        out.push(`${r}/`);
        await walk(path.join(abs, name), r);
      } else out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** Recv is a running receiver and what it reported. */
export interface Recv {
  receiver: FileReceiver;
  address: string;
  port: number;
  /** code is what a sender must pass: the receiver's own (generated unless given); a plain receiver's optional one. */
  code: string | undefined;
  /** plain is true for a cleartext (protocol 1) receiver. */
  plain: boolean;
  summaries: TransferSummary[];
  events: TransferEvent[];
  /** summary waits for the n-th (1-based) summary onTransfer reported. */
  summary: (n?: number, ms?: number) => Promise<TransferSummary>;
}

/** startReceiver runs serveFiles() on 127.0.0.1:0, closed after the test (encrypted unless `plain`). */
export async function startReceiver(
  t: TestContext,
  options: Omit<ReceiverOptions, 'onTransfer' | 'onEvent'>,
): Promise<Recv> {
  const summaries: TransferSummary[] = [];
  const events: TransferEvent[] = [];
  const receiver = await serveFiles('127.0.0.1:0', {
    ...options,
    onTransfer: (s) => summaries.push(s),
    onEvent: (e) => events.push(e),
  });
  t.after(() => receiver.close());
  return {
    receiver,
    address: receiver.addr.address,
    port: receiver.addr.port,
    code: receiver.code,
    plain: options.plain === true,
    summaries,
    events,
    summary: async (n = 1, ms = 10_000) => {
      await until(() => summaries.length >= n, ms, `transfer summary #${n}`);
      return summaries[n - 1]!;
    },
  };
}

/** send runs sendFiles() to `recv` as a user would: with its code, and `plain` when it is; `options` override. */
export function send(paths: string[], recv: Recv, options: SendOptions = {}): Promise<TransferSummary> {
  return sendFiles(paths, recv.address, {
    code: recv.code,
    ...(recv.plain ? { plain: true } : {}),
    ...options,
  });
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** fileFrame announces a file the way sendFiles does; `path` goes out exactly as given. */
export function fileFrame(p: string, size: number, mtime = 1_700_000_000_000, mode = 0o644): Frame {
  return { type: 'file', path: p, size, mode, mtime };
}

/** encode is one control frame: 4-byte big-endian length, then JSON (lone surrogates stay escaped). */
export function encode(frame: Frame): Buffer {
  const json = Buffer.from(JSON.stringify(frame));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(json.length);
  return Buffer.concat([head, json]);
}

/** RawSender is one connection to a receiver, driven byte by byte by the test: a plain one, past the hello. */
export class RawSender {
  readonly socket: net.Socket;
  #buf = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake?.();
    });
    // A receiver that refused may reset the connection while we still write; that is its right.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#ended = true;
        this.#wake?.();
        resolve();
      }),
    );
    socket.once('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
  }

  static connect(port: number): Promise<RawSender> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve(new RawSender(s));
      });
      s.once('error', reject);
    });
  }

  /** write resolves once the bytes are handed to the kernel (rejects if the receiver is gone). */
  write(b: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(b, (err) => (err ? reject(err) : resolve())));
  }

  send(...frames: Frame[]): Promise<void> {
    return this.write(Buffer.concat(frames.map(encode)));
  }

  /** received is every byte not yet taken as a frame. */
  get received(): Buffer {
    return this.#buf;
  }

  /** next reads one frame; null when the receiver closed first. Rejects after `ms`. */
  async next(ms = 5000): Promise<Frame | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.#buf.length >= 4) {
        const len = this.#buf.readUInt32BE(0);
        if (this.#buf.length >= 4 + len) {
          const body = this.#buf.subarray(4, 4 + len);
          this.#buf = this.#buf.subarray(4 + len);
          return JSON.parse(body.toString('utf8')) as Frame;
        }
      }
      if (this.#ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame from the receiver within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  /** hello sends the cleartext magic and the sender's hello and returns the receiver's hello. */
  async hello(): Promise<Frame> {
    await this.write(Buffer.concat([PLAIN_MAGIC, helloFrame()]));
    const h = await this.next();
    if (h?.type !== 'hello') throw new Error(`expected the receiver's hello, got ${JSON.stringify(h)}`);
    return h;
  }

  /**
   * pakeHello opens an encrypted session instead: the magic of protocol 2 and
   * a hello with a real SPAKE2 share for `code`, and returns the receiver's
   * hello. What follows (the confirmation) is up to the test.
   */
  async pakeHello(code: string): Promise<Frame> {
    const share = new CodeSecret(code).exchange('sender').share.toString('hex');
    await this.write(
      Buffer.concat([MAGIC, encode({ type: 'hello', version: PROTOCOL_VERSION, pake: share })]),
    );
    const h = await this.next();
    if (h?.type !== 'hello') throw new Error(`expected the receiver's hello, got ${JSON.stringify(h)}`);
    return h;
  }

  /** announce sends entries and `plan`, and reads one answer per entry (or the refusal that came instead). */
  async announce(...entries: Frame[]): Promise<Frame[]> {
    await this.send(...entries, { type: 'plan' });
    const answers: Frame[] = [];
    for (let i = 0; i < entries.length; i++) {
      const f = await this.next();
      if (f === null) break;
      answers.push(f);
      if (f.type === 'error') break;
    }
    return answers;
  }

  /** sendFile streams `bytes` for an accepted file and an `end` frame claiming `sum` (default: the true one). */
  async sendFile(bytes: Buffer, offset = 0, sum = sha256(bytes)): Promise<Frame | null> {
    await this.write(
      Buffer.concat([encode({ type: 'data', offset }), bytes, encode({ type: 'end', sha256: sum })]),
    );
    return this.next();
  }

  /** finish says `bye` and expects the receiver's `bye`. */
  async finish(): Promise<Frame | null> {
    await this.send({ type: 'bye' });
    return this.next();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** helloFrame is the cleartext sender's hello (version 1) with a fresh nonce. */
export function helloFrame(): Buffer {
  return encode({ type: 'hello', version: 1, nonce: randomBytes(16).toString('hex') });
}

/** firstAnswer connects, says hello, announces `entries` and returns the receiver's first answer. */
export async function firstAnswer(port: number, ...entries: Frame[]): Promise<Frame | null> {
  const s = await RawSender.connect(port);
  try {
    await s.hello();
    const answers = await s.announce(...entries);
    return answers.find((a) => a.type === 'error') ?? answers[0] ?? null;
  } finally {
    s.destroy();
  }
}

/** SealedSender drives an encrypted session frame by frame (shared with the CLI tests). */
export { SealedSender } from '../helpers/sealed-sender.js';

/** RAW_CONTROL matches what must never reach a terminal raw: C0, DEL, C1 and bidi controls. */
export const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
