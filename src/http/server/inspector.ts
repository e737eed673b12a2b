import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkFunction, checkInt } from '../../internal/validate.js';
import { TrustList } from '../../proxy/trust.js';
import type { RequestInfo } from '../inspect.js';
import { type HandlerState, type InspectOptions, inspect } from './handler.js';
import { HTTP_SERVER_DEFAULTS } from './options.js';

/** InspectorOptions tunes inspector(). */
export interface InspectorOptions {
  /** maxBodyBytes caps the request body the inspector reads; a larger one gets 413 and `Connection: close`. */
  maxBodyBytes?: number;
  /** trust lists proxies (CIDR) whose X-Forwarded-For / Forwarded headers are believed. Default: none. */
  trust?: readonly string[];
  /** onRequest is called with every request once its body is read (for logging). */
  onRequest?: (info: RequestInfo) => void;
  /** onRequestText is called with every request as formatRequest() prints it (a text log; see serveHttp()). */
  onRequestText?: (text: string) => void;
}

/** INSPECTOR_DEFAULTS are inspector()'s defaults: the same body limit as serveHttp(). */
export const INSPECTOR_DEFAULTS = Object.freeze({
  /** maxBodyBytes is serveHttp()'s: 1 MiB. */
  maxBodyBytes: HTTP_SERVER_DEFAULTS.maxBodyBytes,
});

/** InspectorHandler is a node:http request listener; Express and Connect take it as middleware too. */
export type InspectorHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * inspector returns serveHttp()'s request inspector as a plain request
 * listener, to mount in a server of your own: `http.createServer(inspector())`,
 * or `app.use('/debug', inspector())` in Express. It answers every request
 * it is given (it never calls `next`), as serveHttp() does: the greeting,
 * the request as JSON (`Accept: application/json`) or HTML, shaped by the
 * query. Under a mount it shows the target as the client sent it
 * (`originalUrl`) and the prefix as `base`. The body is read up to
 * `maxBodyBytes` unless a body parser before it took it (then its kind is
 * `consumed`). Throws InvalidArgumentError for a bad option, at once.
 */
export function inspector(options: InspectorOptions = {}): InspectorHandler {
  const opts: InspectOptions = {
    maxBodyBytes: checkInt(
      'maxBodyBytes',
      options.maxBodyBytes ?? INSPECTOR_DEFAULTS.maxBodyBytes,
      0,
      2 ** 31 - 1,
    ),
    onRequest: checkFunction('onRequest', options.onRequest),
    onRequestText: checkFunction('onRequestText', options.onRequestText),
    trust: options.trust === undefined ? undefined : new TrustList(options.trust),
  };
  const tcp: HandlerState = { closing: false };
  const unix: HandlerState = { closing: false, unix: true };
  return (req, res) => {
    // The host server's listener is not known here: a Unix socket's peer is the one without an address.
    const local = req.socket.remoteAddress === undefined && !req.socket.destroyed;
    inspect(req, res, opts, local ? unix : tcp);
  };
}
