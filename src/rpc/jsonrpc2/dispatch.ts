/**
 * Answering JSON-RPC 2.0 messages from a Registry, independent of the
 * transport: HTTP and TCP both hand a parsed JSON value in and get the JSON
 * text to send back, or undefined when nothing is to be sent.
 */
import { performance } from 'node:perf_hooks';
import type { CallEvent } from '../call-event.js';
import { isLookupError, type Registered, type Registry } from '../registry.js';
import { INTERNAL_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, SERVER_ERROR } from './errors.js';
import type { Limiter } from './limiter.js';
import { checkRequest, encodeError, encodeResult, type JsonRpcId, paramsToArgs } from './protocol.js';

/** DispatchContext is what one message is answered with: where it came from and what bounds it. */
export interface DispatchContext {
  /** remote is the caller's `ip:port`, for CallInfo. */
  readonly remote: string | undefined;
  /** signal aborts when the connection closes or the server is destroyed; methods see it in CallInfo. */
  readonly signal: AbortSignal;
  /** limiter bounds how many methods of this request (HTTP) or connection (TCP) run at once. */
  readonly limiter: Limiter;
}

/** Answer is one call's Response object as JSON text, and the error it carries, for onCall. */
interface Answer {
  text: string;
  error?: string;
  rpcCode?: number;
}

/**
 * Dispatcher answers single requests and batches. Notifications are run but
 * never answered; a batch is answered in request order, with its calls run
 * concurrently under the context's limiter. Safe to share between
 * connections: it holds no per-message state.
 */
export class Dispatcher {
  readonly #registry: Registry;
  readonly #maxBatch: number;
  readonly #onCall: ((event: CallEvent) => void) | undefined;

  constructor(registry: Registry, options: { maxBatch: number; onCall?: (event: CallEvent) => void }) {
    this.#registry = registry;
    this.#maxBatch = options.maxBatch;
    this.#onCall = options.onCall;
  }

  /** handle answers one parsed JSON value (a request or a batch); undefined means send nothing. */
  async handle(message: unknown, ctx: DispatchContext): Promise<string | undefined> {
    if (!Array.isArray(message)) return this.#one(message, ctx);
    // An empty batch is one Invalid Request, not an empty array (specification, section 6).
    if (message.length === 0) return encodeError(null, INVALID_REQUEST);
    if (message.length > this.#maxBatch) {
      // Checked before any call runs: a huge batch would otherwise queue that many tasks.
      return encodeError(
        null,
        INVALID_REQUEST,
        undefined,
        `batch of ${message.length} requests exceeds maxBatch (${this.#maxBatch})`,
      );
    }
    const answers = await Promise.all(message.map((m) => this.#one(m, ctx)));
    const sent = answers.filter((a) => a !== undefined);
    // A batch of notifications only gets nothing at all, not `[]`.
    return sent.length === 0 ? undefined : `[${sent.join(',')}]`;
  }

  async #one(value: unknown, ctx: DispatchContext): Promise<string | undefined> {
    const req = checkRequest(value);
    if (!req.ok) return req.notification ? undefined : encodeError(req.id, req.code);
    const started = this.#onCall ? performance.now() : 0;
    const found = this.#registry.lookup(req.method);
    if (isLookupError(found)) {
      this.#report(ctx, req.method, started, { error: found.error, rpcCode: METHOD_NOT_FOUND });
      // Go's text (`rpc: can't find service X`) says more than the specification's "Method not found".
      return req.notification ? undefined : encodeError(req.id, METHOD_NOT_FOUND, found.error);
    }
    const answer = await ctx.limiter.run(() =>
      this.#invoke(found, req.method, paramsToArgs(req.params), req.id, ctx),
    );
    this.#report(ctx, req.method, started, answer);
    return req.notification ? undefined : answer.text;
  }

  #report(
    ctx: DispatchContext,
    method: string,
    started: number,
    outcome: { error?: string; rpcCode?: number },
  ): void {
    try {
      this.#onCall?.({
        remote: ctx.remote,
        method,
        durationMs: performance.now() - started,
        ...(outcome.error === undefined ? {} : { error: outcome.error, rpcCode: outcome.rpcCode }),
      });
    } catch {
      // A failing logger must not change the answer.
    }
  }

  async #invoke(
    found: Registered,
    method: string,
    args: unknown,
    id: JsonRpcId,
    ctx: DispatchContext,
  ): Promise<Answer> {
    // Registry.invoke keeps only the thrown error's message; wrap the method
    // to keep the error itself too, for its `data`, while invoke still counts the call.
    let thrown: unknown;
    const fn = found.fn;
    const guarded: Registered = {
      ...found,
      fn: async (a, call) => {
        try {
          return await fn(a, call);
        } catch (err) {
          thrown = err;
          throw err;
        }
      },
    };
    const out = await this.#registry.invoke(guarded, args, {
      serviceMethod: method,
      remote: ctx.remote,
      signal: ctx.signal,
    });
    if ('error' in out) {
      const data =
        typeof thrown === 'object' && thrown !== null ? (thrown as { data?: unknown }).data : undefined;
      return {
        text: encodeError(id, SERVER_ERROR, out.error, data),
        error: out.error,
        rpcCode: SERVER_ERROR,
      };
    }
    try {
      return { text: encodeResult(id, out.reply) };
    } catch (err) {
      const why = `result is not JSON: ${(err as Error).message}`;
      return { text: encodeError(id, INTERNAL_ERROR, undefined, why), error: why, rpcCode: INTERNAL_ERROR };
    }
  }
}
