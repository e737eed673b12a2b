import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { NetkitError } from '../../errors.js';
import { capBody } from './body.js';
import { type HandlerState, sendError } from './handler.js';
import { type HttpHandler, matchRoute, type NextFunction, type Route } from './routes.js';

/**
 * The order in which serveHttp() hands a request on when the user brings
 * handlers of their own: the user's `routes` (most specific pattern), then
 * the user's `handler`, then netkit's built-in answer (the inspector, or
 * static files with `dir`). Each of the user's handlers passes the request
 * on by calling `next()`, as Express and Connect middleware do; one that
 * answers and never calls it ends the chain. What the user's code throws,
 * rejects with or passes to `next(err)` becomes a 500 and a `handlerError`
 * event, never a crash: Go's net/http recovers a handler's panic the same way.
 */

/** UserHandlers is what the user brought: compiled routes, a handler, or both. */
export interface UserHandlers {
  routes: readonly Route[] | undefined;
  handler: HttpHandler | undefined;
  maxBodyBytes: number;
}

/** clearHeaders drops what a failed handler set with setHeader, which would otherwise merge into netkit's answer. */
function clearHeaders(res: ServerResponse): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
}

/** asError gives a thrown non-Error value (a string, undefined) an Error to travel in. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`handler failed with ${String(err)}`, { cause: err });
}

/** isThenable recognises promises from other realms and libraries (a returned ServerResponse is not one). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * dispatch returns the request listener that runs the user's routes and
 * handler in front of `builtin`, with `maxBodyBytes` enforced on bodies
 * they read (capBody) and their failures answered (see above).
 */
export function dispatch(user: UserHandlers, builtin: RequestListener, state: HandlerState): RequestListener {
  const { routes, handler, maxBodyBytes: max } = user;
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => {}); // aborted by the client: the handler's own reads see it; nothing to crash
    let limited = false;
    const tooLarge = () => {
      limited = true;
      // node:http stops telling a request about its connection once its response is done, so a
      // handler still reading the body would wait for good: its read fails instead.
      const stop = () =>
        req.destroy(
          new NetkitError(
            'NETKIT_BODY_TOO_LARGE',
            `request body exceeds maxBodyBytes (${max} bytes); the client was answered 413`,
          ),
        );
      if (res.headersSent) {
        // The answer is under way or out: cut the connection rather than read on without bound.
        req.socket.destroy();
        stop();
        return;
      }
      res.once('close', stop);
      clearHeaders(res);
      res.setHeader('Connection', 'close');
      sendError(req, res, state, 413, `request body exceeds the limit of ${max} bytes`);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      // Refused before any handler runs; the body is drained so the 413 can be read.
      tooLarge();
      req.resume();
      return;
    }
    capBody(req, max, tooLarge);

    const fail = (err: unknown) => {
      // After the 413, a handler's read fails when the connection closes: that is the limit, not a bug.
      if (limited) return;
      const error = asError(err);
      try {
        state.onHandlerError?.(error, req);
      } catch {
        // a logging listener must not keep the client waiting
      }
      if (!res.headersSent) {
        clearHeaders(res);
        sendError(req, res, state, 500, 'internal error');
      } else if (!res.writableEnded) {
        // Half an answer is out: cut it short so the client sees it is incomplete, as Go does.
        res.destroy();
      }
    };
    // Writes after end and the like are the handler's bugs too; unheard, they would crash the process.
    res.on('error', fail);

    /** run calls one of the user's handlers; `then` is where its next() leads. */
    const run = (h: HttpHandler, then: () => void) => {
      let called = false;
      const next: NextFunction = (err?: unknown) => {
        if (called) return;
        called = true;
        if (err !== undefined && err !== null) fail(err);
        else then();
      };
      try {
        const result = h(req, res, next);
        if (isThenable(result)) result.then(undefined, fail);
      } catch (err) {
        fail(err);
      }
    };
    const toBuiltin = () => builtin(req, res);
    const toHandler = handler === undefined ? toBuiltin : () => run(handler, toBuiltin);
    const match = routes === undefined ? undefined : matchRoute(routes, req);
    if (match === undefined) toHandler();
    else if (match.kind === 'handler') run(match.handler, toHandler);
    else if (match.kind === 'redirect') {
      sendError(req, res, state, 301, `moved permanently to ${match.location}`, [
        ['Location', match.location],
      ]);
    } else {
      sendError(req, res, state, 405, `method ${req.method} not allowed; use ${match.allow.join(', ')}`, [
        ['Allow', match.allow.join(', ')],
      ]);
    }
  };
}
