import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { ConnectionError, InvalidArgumentError, UnsupportedError } from '../../errors.js';
import { checkInt, checkString } from '../../internal/validate.js';
import type { Bus, BusMessage } from './types.js';

/** RedisBusOptions tunes a RedisBus. */
export interface RedisBusOptions {
  /** channelPrefix starts every channel name; the room follows it. Default 'netkit:ws:'. */
  channelPrefix?: string;
  /** connectTimeout bounds start(), in milliseconds. Default 5000. */
  connectTimeout?: number;
}

/** RedisBusStatus reports the bus losing ('down') or regaining ('up') Redis after start(). */
export interface RedisBusStatus {
  /** state is 'down' when Redis was lost, 'up' when it is back. */
  state: 'up' | 'down';
  /** reason says why the bus is down: the last connection error, or that the connection closed. */
  reason?: string;
}

/*
 * Wire format of one message, the value PUBLISHed on `<prefix><room>`:
 *   byte 0      format version (1)
 *   byte 1      flags; bit 0 = binary (otherwise the payload is UTF-8 text)
 *   bytes 2-17  random id of the publishing instance
 *   bytes 18-   payload, byte for byte
 * The room travels in the channel name, so a subscriber never trusts a
 * room field that could disagree with the channel it arrived on.
 */
const VERSION = 1;
const FLAG_BINARY = 0x01;
const ID_BYTES = 16;
const HEADER_BYTES = 2 + ID_BYTES;

/**
 * RedisBus fans broadcast-room messages out through Redis pub/sub, so that
 * several netkit servers share their rooms.
 *
 * Delivery is at-most-once, as Redis pub/sub is: a message published while
 * Redis (or this instance's link to it) is down is lost, never queued and
 * replayed late. After start(), a lost connection is retried forever in the
 * background and reported through onStatus(); it never throws or rejects.
 *
 * The `ioredis` client is loaded by start(), not when this module is
 * imported, so `netkit/ws` works without it; start() rejects with
 * NETKIT_UNSUPPORTED when it is not installed.
 */
export class RedisBus implements Bus {
  readonly #url: string;
  readonly #prefix: Buffer;
  readonly #pattern: string;
  readonly #timeoutMs: number;
  readonly #id = randomBytes(ID_BYTES);
  readonly #base: RedisOptions;
  #pub: Redis | undefined;
  #sub: Redis | undefined;
  readonly #listeners = new Set<(status: RedisBusStatus) => void>();
  #deliver: ((msg: BusMessage) => void) | undefined;
  #running = false;
  #closing: Promise<void> | undefined;
  #subscribed = false;
  #up = false;
  #lastError: string | undefined;
  #dropped = 0;
  #failed = 0;

  constructor(url: string, options: RedisBusOptions = {}) {
    const prefix = checkString('channelPrefix', options.channelPrefix ?? 'netkit:ws:', true);
    this.#timeoutMs = checkInt('connectTimeout', options.connectTimeout ?? 5000, 1, 2 ** 31 - 1);
    const conn = parseRedisUrl(url);
    this.#url = conn.display;
    this.#prefix = Buffer.from(prefix, 'utf8');
    // Glob characters in the prefix are escaped so the pattern matches exactly
    // `<prefix>` followed by anything; rooms are never part of the pattern.
    this.#pattern = `${prefix.replace(/[\\*?[\]]/g, '\\$&')}*`;
    this.#base = {
      ...conn.options,
      lazyConnect: true,
      connectTimeout: this.#timeoutMs,
      // Before start() succeeds there is no retry: an unreachable Redis must
      // fail start() promptly. Afterwards, reconnect forever with a capped backoff.
      retryStrategy: (times) => (this.#running ? Math.min(100 * times, 2000) : null),
      // A publish that could not reach Redis is dropped, not queued for later
      // (at-most-once), and in-flight commands are not resent after a reconnect.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      // Resubscription is done here (see #subscribe) so its failure is handled.
      autoResubscribe: false,
    };
  }

  /** dropped counts messages received on the bus's channels that were malformed and ignored. */
  get dropped(): number {
    return this.#dropped;
  }

  /** failedPublishes counts publish() calls lost because Redis was unreachable. */
  get failedPublishes(): number {
    return this.#failed;
  }

  /** onStatus calls `listener` each time the bus loses or regains Redis; returns an unsubscribe function. */
  onStatus(listener: (status: RedisBusStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(deliver: (msg: BusMessage) => void): Promise<void> {
    if (this.#closing) throw new ConnectionError('NETKIT_CONNECTION_CLOSED', 'redis bus is closed');
    if (this.#deliver) throw new InvalidArgumentError('start', 'the redis bus is already started');
    this.#deliver = deliver;
    this.#lastError = undefined;
    let RedisClient: typeof Redis;
    try {
      RedisClient = await loadRedis();
    } catch (err) {
      this.#deliver = undefined;
      throw err;
    }
    if (this.#closing) {
      this.#deliver = undefined;
      throw new ConnectionError('NETKIT_CONNECTION_CLOSED', 'redis bus is closed');
    }
    const [pub, sub] = this.#clients(RedisClient);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    timeout.catch(() => {}); // it may fire between the two races below
    try {
      await Promise.race([Promise.all([pub.connect(), sub.connect()]), timeout]);
      await Promise.race([this.#subscribe(), timeout]);
      this.#running = true;
      this.#up = true; // the first 'up' is start() resolving, not a status event
    } catch (err) {
      this.#deliver = undefined;
      pub.disconnect();
      sub.disconnect();
      if (this.#closing) throw new ConnectionError('NETKIT_CONNECTION_CLOSED', 'redis bus is closed');
      // ioredis rejects with a generic "Connection is closed."; the error event says why.
      const why = this.#lastError ?? (err instanceof Error ? err.message : String(err));
      const message = `redis: cannot connect to ${this.#url}: ${why}`;
      throw new ConnectionError('NETKIT_DIAL_FAILED', message, this.#url, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  publish(msg: BusMessage): void {
    checkString('room', msg?.room);
    if (!(msg.data instanceof Uint8Array)) throw new InvalidArgumentError('data', 'must be a Buffer');
    const pub = this.#pub;
    if (!this.#running || !pub) return; // not started or closed: nothing to fan out to
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = VERSION;
    header[1] = msg.binary ? FLAG_BINARY : 0;
    this.#id.copy(header, 2);
    const channel = Buffer.concat([this.#prefix, Buffer.from(msg.room, 'utf8')]);
    pub.publish(channel, Buffer.concat([header, msg.data])).catch(() => {
      this.#failed++;
    });
  }

  /**
   * close stops delivery and closes both Redis connections; it resolves when they are closed, and calling it
   * again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#running = false;
      this.#deliver = undefined;
      await Promise.all([this.#pub, this.#sub].map((r) => (r ? shut(r) : undefined)));
      this.#subscribed = false;
      this.#updateStatus();
    })();
    return this.#closing;
  }

  /** clients makes the two connections on the first start(); a start() after a failed one reuses them. */
  #clients(RedisClient: typeof Redis): [Redis, Redis] {
    if (this.#pub && this.#sub) return [this.#pub, this.#sub];
    const pub = new RedisClient({ ...this.#base, connectionName: 'netkit-ws-pub' });
    const sub = new RedisClient({ ...this.#base, connectionName: 'netkit-ws-sub' });
    for (const r of [pub, sub]) {
      // With a listener attached ioredis neither throws nor logs connection errors.
      r.on('error', (err: Error) => {
        this.#lastError = err.message;
      });
      r.on('close', () => {
        if (r === sub) this.#subscribed = false;
        this.#updateStatus();
      });
    }
    pub.on('ready', () => this.#updateStatus());
    sub.on('ready', () => {
      if (this.#running) this.#subscribe().catch(() => sub.disconnect(true));
    });
    sub.on('pmessageBuffer', (pattern: string, channel: Buffer, message: Buffer) =>
      this.#receive(pattern, channel, message),
    );
    this.#pub = pub;
    this.#sub = sub;
    return [pub, sub];
  }

  async #subscribe(): Promise<void> {
    await this.#sub?.psubscribe(this.#pattern);
    this.#subscribed = true;
    this.#updateStatus();
  }

  #receive(pattern: string, channel: Buffer, message: Buffer): void {
    const deliver = this.#deliver;
    if (!deliver || pattern !== this.#pattern) return;
    if (!Buffer.isBuffer(message) || message.length < HEADER_BYTES || message[0] !== VERSION) {
      this.#dropped++;
      return;
    }
    const flags = message[1]!;
    const roomBytes = channel.subarray(this.#prefix.length);
    const binary = (flags & FLAG_BINARY) !== 0;
    const data = message.subarray(HEADER_BYTES);
    if (
      (flags & ~FLAG_BINARY) !== 0 ||
      !channel.subarray(0, this.#prefix.length).equals(this.#prefix) ||
      !isUtf8(roomBytes) ||
      (!binary && !isUtf8(data))
    ) {
      this.#dropped++;
      return;
    }
    // This instance already delivered its own message locally.
    if (this.#id.equals(message.subarray(2, HEADER_BYTES))) return;
    callOutside(() => deliver({ room: roomBytes.toString('utf8'), data, binary }));
  }

  #updateStatus(): void {
    const up = this.#running && this.#subscribed && this.#pub?.status === 'ready';
    if (up === this.#up) return;
    this.#up = up;
    // No 'down' once closing: the caller asked for it.
    if (!up && this.#closing) return;
    const status: RedisBusStatus = up
      ? { state: 'up' }
      : { state: 'down', reason: this.#lastError ?? 'connection to Redis closed' };
    if (up) this.#lastError = undefined;
    for (const listener of this.#listeners) callOutside(() => listener(status));
  }
}

/** REDIS_MISSING is what start() says when the optional client package is not installed. */
const REDIS_MISSING = 'Redis fan-out needs the "ioredis" package: npm install ioredis';

let redisClient: Promise<typeof Redis> | undefined;

/**
 * loadRedis imports ioredis on first use, so that importing netkit/ws does not
 * load a client most servers never need; a missing package becomes
 * NETKIT_UNSUPPORTED with the install command, any other failure passes through.
 */
function loadRedis(): Promise<typeof Redis> {
  redisClient ??= import('ioredis').then(
    (m) => m.Redis,
    (err: unknown) => {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new UnsupportedError(REDIS_MISSING, { cause: err });
      }
      throw err;
    },
  );
  return redisClient;
}

/**
 * callOutside runs a caller's callback from inside an ioredis event; a throw
 * is re-raised on its own tick so it surfaces as the caller's bug instead of
 * breaking ioredis's reply parser half-way through a buffer.
 */
function callOutside(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.nextTick(() => {
      throw err;
    });
  }
}

/** shut closes one connection and resolves once its socket is gone. */
function shut(r: Redis): Promise<void> {
  if (r.status === 'end' || r.status === 'wait' || r.status === 'reconnecting' || r.status === 'close') {
    r.disconnect(); // only cancels a pending reconnect; there is no socket
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(force);
      resolve();
    };
    r.once('end', done);
    // QUIT lets Redis close cleanly; an unresponsive server is cut off.
    const force = setTimeout(() => r.disconnect(), 1000);
    if (r.status === 'ready') r.quit().catch(() => r.disconnect());
    else r.disconnect();
  });
}

/**
 * parseRedisUrl checks a redis:// or rediss:// URL and turns it into ioredis
 * options, so the URL that was validated is exactly the one used.
 */
function parseRedisUrl(url: string): { options: RedisOptions; display: string } {
  if (typeof url !== 'string') throw new InvalidArgumentError('redis', 'must be a URL string');
  // The password never appears in messages.
  const shown = JSON.stringify(url.replace(/\/\/([^@/]*?):[^@/]*@/, '//$1:***@'));
  const bad = (what: string) => new InvalidArgumentError('redis', `${what}, got ${shown}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('must be a URL such as redis://127.0.0.1:6379 (host, optional port 1-65535)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad('scheme must be redis:// or rediss://');
  if (u.hostname === '') throw bad('has no host');
  if (u.search !== '' || u.hash !== '') throw bad('query and fragment are not supported');
  const port = u.port === '' ? 6379 : Number(u.port);
  if (port < 1) throw bad('port must be from 1 to 65535');
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,5}$/.test(db)) throw bad('path must be a database number such as /0');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = { host, port, db: db === '' ? 0 : Number(db) };
  try {
    if (u.username !== '') options.username = decodeURIComponent(u.username);
    if (u.password !== '') options.password = decodeURIComponent(u.password);
  } catch {
    throw new InvalidArgumentError('redis', 'user name or password has a bad %-escape');
  }
  if (u.protocol === 'rediss:') options.tls = /^[\d.]+$|:/.test(host) ? {} : { servername: host };
  const auth = u.username || u.password ? `${u.username}${u.password ? ':***' : ''}@` : '';
  return { options, display: `${u.protocol}//${auth}${u.host}${u.port === '' ? `:${port}` : ''}` };
}
