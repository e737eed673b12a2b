/**
 * The service registry shared by every RPC front end netkit has (Go net/rpc
 * with the gob or JSON codec, JSON-RPC 2.0 over HTTP or TCP): services are
 * registered once and served by all of them.
 *
 * Like Go's net/rpc, a method is addressed as `Service.Method`. A method is
 * `async (args, call) => reply`; whatever it throws becomes the error string
 * of the reply (its `message`), and the connection goes on serving.
 */
import { InvalidArgumentError } from '../errors.js';

/** CallInfo is what a method learns about the call besides its arguments. */
export interface CallInfo {
  /** serviceMethod is `Service.Method` as the client sent it. */
  readonly serviceMethod: string;
  /** remote is the caller's address (`ip:port`), when known. */
  readonly remote: string | undefined;
  /** signal aborts when the connection closes or the server shuts down. */
  readonly signal: AbortSignal;
}

/** Method is one RPC method: it receives the decoded arguments and returns the reply. */
export type Method = (args: unknown, call: CallInfo) => unknown;

/**
 * MethodSchemas optionally describes how a method's values are encoded for
 * codecs that need Go types (gob): `reply` is the gob type of the reply. A
 * method without one has its reply typed by gob's inference rule. Values are
 * opaque here; the gob codec interprets them.
 */
export interface MethodSchemas {
  /** reply is the gob type of the reply. */
  reply?: unknown;
  /** args is the gob type of the arguments. */
  args?: unknown;
}

/** ServiceSchemas maps method names to their schemas. */
export type ServiceSchemas = Record<string, MethodSchemas>;

/** Registered is one method as found by lookup(). */
export interface Registered {
  service: string;
  method: string;
  fn: Method;
  schemas: MethodSchemas;
}

/** MethodStats are the counters shown on the debug page. */
export interface MethodStats {
  /** service is the service's name. */
  service: string;
  /** method is the method's name. */
  method: string;
  /** calls counts the calls made to it. */
  calls: number;
}

/** LookupError is why a `Service.Method` cannot be called, in Go's exact words. */
export interface LookupError {
  error: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Registry holds services. Names follow Go's rules loosely: identifiers
 * without dots. Registering a name twice is an error, as in Go.
 */
export class Registry {
  readonly #services = new Map<string, Map<string, Registered & { calls: number }>>();

  /** register adds a service; `methods` maps method names to functions. */
  register(name: string, methods: Record<string, Method>, schemas: ServiceSchemas = {}): this {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new InvalidArgumentError(
        'name',
        `service name must be an identifier, got ${JSON.stringify(name)}`,
      );
    }
    if (this.#services.has(name)) {
      throw new InvalidArgumentError('name', `rpc: service already defined: ${name}`);
    }
    if (typeof methods !== 'object' || methods === null) {
      throw new InvalidArgumentError('methods', 'must be an object of functions');
    }
    const table = new Map<string, Registered & { calls: number }>();
    for (const [method, fn] of Object.entries(methods)) {
      if (typeof fn !== 'function') continue;
      if (!NAME.test(method)) {
        throw new InvalidArgumentError(
          'methods',
          `method name must be an identifier, got ${JSON.stringify(method)}`,
        );
      }
      table.set(method, {
        service: name,
        method,
        fn: fn as Method,
        schemas: schemas[method] ?? {},
        calls: 0,
      });
    }
    if (table.size === 0) {
      throw new InvalidArgumentError(
        'methods',
        `rpc.Register: type ${name} has no exported methods of suitable type`,
      );
    }
    this.#services.set(name, table);
    return this;
  }

  /**
   * lookup finds `Service.Method`, or returns Go's error text:
   * `rpc: service/method request ill-formed: X`, `rpc: can't find service X`,
   * `rpc: can't find method X`.
   *
   * @internal
   */
  lookup(serviceMethod: string): Registered | LookupError {
    const dot = serviceMethod.lastIndexOf('.');
    if (dot < 0) return { error: `rpc: service/method request ill-formed: ${serviceMethod}` };
    const service = this.#services.get(serviceMethod.slice(0, dot));
    if (!service) return { error: `rpc: can't find service ${serviceMethod}` };
    const found = service.get(serviceMethod.slice(dot + 1));
    if (!found) return { error: `rpc: can't find method ${serviceMethod}` };
    return found;
  }

  /**
   * invoke runs a method found by lookup(), counting the call; a throw or rejection becomes `{ error }`.
   * A method that returns a plain value is answered at once, without a promise: the usual RPC
   * method is synchronous, and each promise is a microtask between the request and its reply.
   *
   * @internal
   */
  invoke(found: Registered, args: unknown, call: CallInfo): Invoked | Promise<Invoked> {
    const entry = this.#services.get(found.service)?.get(found.method);
    if (entry) entry.calls++;
    let out: unknown;
    try {
      out = found.fn(args, call);
    } catch (err) {
      return { error: errorText(err) };
    }
    if (!isThenable(out)) return { reply: out };
    return Promise.resolve(out).then(
      (reply) => ({ reply }),
      (err: unknown) => ({ error: errorText(err) }),
    );
  }

  /** stats lists every method with its call count, sorted by service then method (for /debug/rpc). */
  stats(): MethodStats[] {
    const out: MethodStats[] = [];
    for (const name of [...this.#services.keys()].sort()) {
      const table = this.#services.get(name)!;
      for (const m of [...table.keys()].sort())
        out.push({ service: name, method: m, calls: table.get(m)!.calls });
    }
    return out;
  }
}

/** Invoked is what invoke() gives back: the method's reply, or its error text. */
export type Invoked = { reply: unknown } | LookupError;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** isThenable is `await`'s test: an object or function with a `then` method is adopted, anything else is the value. */
function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** isLookupError narrows lookup()'s result. */
export function isLookupError(v: Registered | LookupError): v is LookupError {
  return 'error' in v;
}
