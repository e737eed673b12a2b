import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { splitHostPort } from '../addr/index.js';
import { InvalidArgumentError } from '../errors.js';
import { checkSignal, shown } from '../internal/validate.js';
import type { TargetChange } from './balance.js';
import { type RelayOptions, resolveRelayOptions } from './options.js';
import { type ConnFail, type ConnOpen, Relay } from './relay.js';
import type { ConnSummary } from './types.js';

/** HubError is a proxy that cannot be found (404) or whose name is taken (409), as in Toxiproxy's API. */
export class HubError extends InvalidArgumentError {
  /** status is the HTTP status the API answers with. */
  readonly status: 404 | 409;
  constructor(status: 404 | 409, message: string) {
    super('proxy', message);
    this.status = status;
  }
}

/**
 * ProxySpec is one proxy in Toxiproxy's JSON: `upstream` may list several
 * targets separated by commas (netkit balances them), `toxics` are added
 * when the proxy is made (Toxiproxy ignores them).
 */
export interface ProxySpec {
  /** name is the proxy's name, unique in the hub. */
  name: string;
  /** listen defaults to 127.0.0.1:0 (Toxiproxy's empty listen binds every interface). */
  listen?: string;
  /** upstream is the target, or several separated by commas. */
  upstream: string;
  /** enabled defaults to true. */
  enabled?: boolean;
  /** toxics are added when the proxy is made. */
  toxics?: readonly unknown[] | null;
}

/** ProxyChange is what POST /proxies/{proxy} may change; every field is optional. */
export interface ProxyChange {
  /** name renames the proxy. */
  name?: string;
  /** listen moves the proxy to another address. */
  listen?: string;
  /** upstream points the proxy at other targets. */
  upstream?: string;
  /** enabled false closes the listener and drops connections; true listens again. */
  enabled?: boolean;
  /** toxics is read back from GET by clients that save a whole proxy; it is ignored here. */
  toxics?: readonly unknown[] | null;
}

/** RelayHubOptions are the relay options every proxy of the hub shares, and a signal that closes it. */
export type RelayHubOptions = Omit<
  RelayOptions,
  'listen' | 'targets' | 'name' | 'faults' | 'stdio' | 'signal'
> & {
  /** signal closes the hub (as close()) when aborted. */
  signal?: AbortSignal;
};

/** RelayHubEvents are the hub's proxies coming and going, and their relays' events with the relay attached. */
export interface RelayHubEvents {
  /** add: a proxy was made. */
  add: [Relay];
  /** remove: a proxy was deleted. */
  remove: [Relay];
  /** open: a proxy connected a client to its target. */
  open: [ConnOpen, Relay];
  /** close: a relayed connection ended. */
  close: [ConnSummary, Relay];
  /** fail: a proxy could not carry a connection. */
  fail: [ConnFail, Relay];
  /** target: one of a proxy's targets went down or came back. */
  target: [TargetChange, Relay];
  /** update: update() or reset() changed a proxy's listen, upstream or enabled (its faults have Toxics.subscribe). */
  update: [Relay];
}

const FIELDS = ['name', 'listen', 'upstream', 'enabled', 'toxics'];
const DEFAULT_LISTEN = '127.0.0.1:0';

/**
 * RelayHub holds relays by name, as toxiproxy-server holds its proxies,
 * and is what the Toxiproxy-compatible API drives. Changes are applied one
 * at a time, in the order they were asked for, so two requests for the
 * same name never race; reads are immediate. Targets are refused when
 * they are `exec:` or `-`: whoever reaches the API would get a shell.
 */
export class RelayHub extends EventEmitter<RelayHubEvents> implements AsyncDisposable {
  readonly #defaults: RelayHubOptions;
  readonly #relays = new Map<string, Entry>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** RelayHub checks the shared relay options now, each failure naming the option. */
  constructor(options: RelayHubOptions = {}) {
    super();
    const { signal, ...defaults } = options;
    checkSignal(signal);
    resolveRelayOptions({ ...defaults, listen: DEFAULT_LISTEN, targets: ['127.0.0.1:1'] });
    this.#defaults = defaults;
    signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** get is the named relay; an unknown name throws HubError 404. */
  get(name: string): Relay {
    const e = this.#relays.get(name);
    if (e === undefined) throw new HubError(404, `proxy not found: ${name}`);
    return e.relay;
  }

  /** list is every relay, in the order they were made. */
  list(): Relay[] {
    return [...this.#relays.values()].map((e) => e.relay);
  }

  /**
   * listenOf is a relay's `listen` as the API shows it: where it is bound;
   * when disabled, where it was last bound, or the listen given since.
   */
  listenOf(relay: Relay): string {
    const e = this.#relays.get(relay.name);
    return relay.enabled || e === undefined ? relay.address : e.listen;
  }

  /**
   * create makes a proxy and, unless `enabled` is false, binds it. A name
   * in use throws HubError 409; a bad field, InvalidArgumentError; an
   * address that cannot be bound, ListenError (nothing is kept then).
   */
  create(spec: ProxySpec): Promise<Relay> {
    const s = checkProxySpec(spec);
    return this.#exclusive(() => this.#create(s));
  }

  /**
   * update changes a proxy as Toxiproxy does: a new listen or upstream
   * restarts it (open connections are dropped), `enabled` binds it again
   * or closes it.
   */
  update(name: string, change: ProxyChange): Promise<Relay> {
    const c = checkChange(name, change);
    return this.#exclusive(async () => {
      const r = this.get(name);
      const entry = this.#relays.get(name) as Entry;
      // Told even when a step failed half-way: the proxy may have changed before it.
      try {
        await this.#update(r, entry, c);
      } finally {
        this.emit('update', r);
      }
      return r;
    });
  }

  /** #update applies a checked change: a new listen or upstream restarts the proxy, then `enabled`. */
  async #update(r: Relay, entry: Entry, c: ProxyChange): Promise<void> {
    const newListen =
      c.listen !== undefined && !(await sameListen(this.listenOf(r), c.listen)) ? c.listen : undefined;
    const newUpstream = c.upstream !== undefined && c.upstream !== r.upstream ? c.upstream : undefined;
    const was = r.enabled;
    if (newListen !== undefined || newUpstream !== undefined) {
      await r.disable();
      if (newUpstream !== undefined) r.setUpstream(splitUpstream(newUpstream));
      if (newListen !== undefined) {
        await r.setListen(newListen);
        entry.listen = newListen;
        entry.moved = true;
      }
    }
    const want = c.enabled ?? was;
    if (want && !r.enabled) await enable(entry);
    else if (!want && r.enabled) await r.disable();
  }

  /** remove closes the named proxy, dropping its connections, and forgets it. */
  remove(name: string): Promise<void> {
    return this.#exclusive(() => this.#remove(name));
  }

  /**
   * reset enables every proxy and removes every toxic (Toxiproxy's POST
   * /reset). A proxy that cannot bind again does not stop the others; the
   * first such failure is thrown after.
   */
  reset(): Promise<void> {
    return this.#exclusive(async () => {
      let first: unknown;
      for (const entry of this.#relays.values()) {
        entry.relay.toxics.clear();
        await enable(entry).catch((err: unknown) => {
          first ??= err;
        });
        this.emit('update', entry.relay);
      }
      if (first !== undefined) throw first;
    });
  }

  /**
   * populate creates or replaces proxies by name, as Toxiproxy's POST
   * /populate: every spec is checked before anything changes; a proxy
   * whose listen and upstream are unchanged is kept as it is (toxics and
   * all), any other is closed and made anew. Each proxy done is pushed to
   * `done`, which tells how far it got when it throws.
   */
  populate(specs: readonly ProxySpec[], done: Relay[] = []): Promise<Relay[]> {
    if (!Array.isArray(specs)) {
      throw new InvalidArgumentError('proxies', `must be an array of proxies, got ${shown(specs)}`);
    }
    const checked = specs.map((s, i) => checkProxySpec(s, `proxies[${i}].`));
    return this.#exclusive(async () => {
      for (const s of checked) {
        const old = this.#relays.get(s.name);
        if (old !== undefined) {
          const same =
            old.relay.upstream === s.upstream &&
            (await sameListen(this.listenOf(old.relay), s.listen || DEFAULT_LISTEN));
          if (same) {
            done.push(old.relay);
            continue;
          }
          await this.#remove(s.name);
        }
        done.push(await this.#create(s));
      }
      return done;
    });
  }

  /** close closes every proxy; the hub makes no more. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#exclusive(async () => {
      await Promise.all([...this.#relays.keys()].map((name) => this.#remove(name)));
    });
  }

  /** [Symbol.asyncDispose] runs close(), so `await using` closes every proxy at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #create(s: ProxySpec): Promise<Relay> {
    if (this.#closed) throw new HubError(409, `the hub is closed; proxy ${s.name} was not made`);
    if (this.#relays.has(s.name)) throw new HubError(409, `proxy already exists: ${s.name}`);
    const listen = s.listen || DEFAULT_LISTEN;
    const r = new Relay(
      resolveRelayOptions({
        ...this.#defaults,
        name: s.name,
        listen,
        targets: splitUpstream(s.upstream),
        faults: s.toxics ?? [],
      }),
    );
    this.#forward(r);
    if (s.enabled !== false) {
      try {
        await r.start();
      } catch (err) {
        r.destroy();
        throw err;
      }
    }
    this.#relays.set(s.name, { relay: r, listen: r.address || listen, moved: false });
    this.emit('add', r);
    return r;
  }

  /**
   * adopt puts a relay made elsewhere (the command line's) in the hub
   * under its name, so the API shows and changes it like the others; a
   * name in use throws HubError 409. The hub closes it on remove() and
   * close().
   */
  adopt(relay: Relay): void {
    if (this.#relays.has(relay.name)) throw new HubError(409, `proxy already exists: ${relay.name}`);
    this.#forward(relay);
    this.#relays.set(relay.name, { relay, listen: relay.address, moved: false });
    this.emit('add', relay);
  }

  #forward(r: Relay): void {
    r.on('open', (e) => this.emit('open', e, r));
    r.on('close', (e) => this.emit('close', e, r));
    r.on('fail', (e) => this.emit('fail', e, r));
    r.on('target', (e) => this.emit('target', e, r));
  }

  async #remove(name: string): Promise<void> {
    const r = this.get(name);
    this.#relays.delete(name);
    // Toxiproxy drops a deleted proxy's connections at once; the address is free when this resolves.
    await r.disable();
    await r.close();
    r.removeAllListeners();
    this.emit('remove', r);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** Entry is a relay and the listen the API shows while it is disabled. */
interface Entry {
  relay: Relay;
  listen: string;
  /** moved is set when listen changed while disabled: the next bind goes there, not where it was. */
  moved: boolean;
}

async function enable(e: Entry): Promise<void> {
  // enable() binds the address the relay had (its ephemeral port kept); start() binds the listen it was given.
  if (e.moved) await e.relay.start();
  else await e.relay.enable();
  e.moved = false;
  e.listen = e.relay.address;
}

/** splitUpstream reads Toxiproxy's upstream, or netkit's comma-separated list of targets. */
function splitUpstream(text: string): string[] {
  return text.split(',').map((t) => t.trim());
}

function checkFields(input: unknown, where: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError(
      where || 'proxy',
      `must be an object like {"name":"db","upstream":"127.0.0.1:5432"}, got ${shown(input)}`,
    );
  }
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!FIELDS.includes(key)) {
      throw new InvalidArgumentError(
        `${where}${key}`,
        `is not a proxy field; the fields are ${FIELDS.join(', ')}`,
      );
    }
  }
  if (raw.listen !== undefined) checkListen(raw.listen, `${where}listen`);
  if (raw.upstream !== undefined) checkUpstream(raw.upstream, `${where}upstream`);
  if (raw.enabled !== undefined && typeof raw.enabled !== 'boolean') {
    throw new InvalidArgumentError(`${where}enabled`, `must be true or false, got ${shown(raw.enabled)}`);
  }
  if (raw.toxics !== undefined && raw.toxics !== null && !Array.isArray(raw.toxics)) {
    throw new InvalidArgumentError(`${where}toxics`, `must be an array of toxics, got ${shown(raw.toxics)}`);
  }
  return raw;
}

/** checkProxySpec checks one proxy as POST /proxies and /populate take it; `where` prefixes field names. */
export function checkProxySpec(input: unknown, where = ''): ProxySpec {
  const raw = checkFields(input, where);
  if (raw.name === undefined || raw.name === '') {
    throw new InvalidArgumentError(`${where}name`, 'is missing: a proxy needs a name');
  }
  checkName(raw.name, `${where}name`);
  if (raw.upstream === undefined || raw.upstream === '') {
    throw new InvalidArgumentError(`${where}upstream`, 'is missing: a proxy needs an upstream (HOST:PORT)');
  }
  return raw as unknown as ProxySpec;
}

function checkChange(name: string, input: unknown): ProxyChange {
  const raw = checkFields(input, '');
  if (raw.name !== undefined && raw.name !== name) {
    throw new InvalidArgumentError(
      'name',
      `a proxy cannot be renamed (${name} to ${shown(raw.name)}); delete it and create another`,
    );
  }
  if (raw.upstream === '') throw new InvalidArgumentError('upstream', 'must not be empty');
  return raw as ProxyChange;
}

function checkName(value: unknown, option: string): void {
  // The name is a path segment of the API; a slash or a control character would make it unreachable.
  if (typeof value !== 'string' || value.length > 256 || /[/\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidArgumentError(
      option,
      `must be a string of 1 to 256 characters without / or control characters, got ${shown(value)}`,
    );
  }
}

function checkListen(value: unknown, option: string): void {
  if (typeof value !== 'string')
    throw new InvalidArgumentError(option, `must be a string (HOST:PORT), got ${shown(value)}`);
  if (value === '-' || /^udp:/i.test(value)) {
    throw new InvalidArgumentError(
      option,
      `${value}: a proxy listens on HOST:PORT, tls:HOST:PORT, unix:PATH or ws://HOST:PORT/PATH`,
    );
  }
}

function checkUpstream(value: unknown, option: string): void {
  if (typeof value !== 'string')
    throw new InvalidArgumentError(option, `must be a string (HOST:PORT), got ${shown(value)}`);
  for (const t of splitUpstream(value)) {
    if (t === '-' || /^exec:/i.test(t)) {
      throw new InvalidArgumentError(
        option,
        `${t}: not a target over the API (it would run programs for whoever reaches it); give HOST:PORT, tls:, unix: or ws://`,
      );
    }
  }
}

/**
 * sameListen tells whether `text` names the address a proxy has now, as
 * Toxiproxy's Differs does: `localhost:8080` is the same as a proxy bound
 * at 127.0.0.1:8080; port 0 always asks for a new port.
 */
async function sameListen(current: string, text: string): Promise<boolean> {
  if (text === current) return true;
  let want: { host: string; port: string };
  let have: { host: string; port: string };
  try {
    want = splitHostPort(text);
    have = splitHostPort(current);
  } catch {
    return false;
  }
  if (want.port !== have.port || want.port === '0') return false;
  if (isIP(want.host) !== 0) return want.host === have.host;
  try {
    const addrs = await lookup(want.host === '' ? '0.0.0.0' : want.host, { all: true });
    return addrs.some((a) => a.address === have.host);
  } catch {
    return false;
  }
}
