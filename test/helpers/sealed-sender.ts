/**
 * A sender of the encrypted transfer protocol (version 2) driven frame by
 * frame by the test, for what `netkit send` never does: leave in the middle
 * of a file, hold a connection open, announce a hostile name. It runs the
 * real handshake (SPAKE2 on the code) and then writes records, so the
 * receiver sees a sender that knows the code.
 */
import { type Conn, dial } from '../../src/tcp/index.js';
import { encodeFrame, type FileEntry, type Frame } from '../../src/transfer/protocol.js';
import { CodeSecret, sealAsSender } from '../../src/transfer/secure/handshake.js';
import { Wire } from '../../src/transfer/wire.js';

/** fileEntry announces a regular file the way sendFiles does; `path` goes out exactly as given. */
export function fileEntry(path: string, size: number, mtime = 1_700_000_000_000, mode = 0o644): FileEntry {
  return { type: 'file', path, size, mode, mtime };
}

/** SealedSender is one encrypted connection to a receiver, past its handshake. */
export class SealedSender {
  readonly conn: Conn;
  readonly #wire: Wire;

  private constructor(conn: Conn, wire: Wire) {
    this.conn = conn;
    this.#wire = wire;
  }

  /** connect dials `address` and proves `code`; it rejects as sendFiles would (wrong code, busy). */
  static async connect(address: string, code: string): Promise<SealedSender> {
    const conn = await dial(address);
    const wire = new Wire(conn, 'receiver');
    try {
      await sealAsSender(wire, new CodeSecret(code));
    } catch (err) {
      conn.destroy();
      throw err;
    }
    return new SealedSender(conn, wire);
  }

  /** write sends bytes inside records (frames and file bytes alike), resolving once they are handed on. */
  write(b: Buffer): Promise<void> {
    return this.#wire.write(b);
  }

  send(...frames: Frame[]): Promise<void> {
    return this.write(Buffer.concat(frames.map(encodeFrame)));
  }

  /** next reads one frame; null when the receiver closed first. Rejects after `ms`. */
  async next(ms = 5000): Promise<Frame | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no frame from the receiver within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.#wire.frame(), late]);
    } finally {
      clearTimeout(timer);
    }
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

  /** sendFile streams `bytes` of an accepted file from `offset`, then `end`, and reads the answer (`done`). */
  async sendFile(bytes: Buffer, offset = 0): Promise<Frame | null> {
    await this.write(
      Buffer.concat([encodeFrame({ type: 'data', offset }), bytes, encodeFrame({ type: 'end' })]),
    );
    return this.next();
  }

  /** end half-closes: the sender leaves without its `bye`. */
  end(): Promise<void> {
    return this.conn.closeWrite();
  }

  destroy(): void {
    this.conn.destroy();
  }
}
