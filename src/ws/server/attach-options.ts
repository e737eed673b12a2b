import { InvalidArgumentError } from '../../errors.js';
import { checkMs } from '../../internal/validate.js';
import { type ResolvedWsOptions, resolveWsOptions, type WsServerOptions } from './options.js';

/**
 * SERVER_OWNED are serveWs() options that belong to the server attachWs()
 * is given: it binds, speaks TLS, reads (and times) the request headers,
 * and answers plain HTTP requests, so the page is the application's too.
 */
const SERVER_OWNED = ['network', 'proxy', 'tls', 'socketMode', 'headersTimeout', 'page'] as const;

/**
 * AttachWsOptions tune attachWs(): serveWs()'s options, without those that
 * belong to the server it is attached to (binding, TLS, PROXY, the
 * header timeout, the page), and with `unclaimedUpgradeTimeout`.
 */
export interface AttachWsOptions extends Omit<WsServerOptions, (typeof SERVER_OWNED)[number]> {
  /**
   * unclaimedUpgradeTimeout is how long an upgrade request for another
   * path is left to the server's other 'upgrade' listeners before it is
   * answered 404, if none of them wrote to it or took it on (engine.io's
   * `destroyUpgradeTimeout` does the same). When attachWs's listener is the
   * only one, the 404 is immediate. 0 leaves such requests alone for good.
   * Default 1000 ms.
   */
  unclaimedUpgradeTimeout?: number;
}

/** ATTACH_WS_DEFAULTS are attachWs()'s defaults beyond WS_SERVER_DEFAULTS. */
export const ATTACH_WS_DEFAULTS = Object.freeze({
  /** Another 'upgrade' listener gets 1 s to take a request for another path, as engine.io waits. */
  unclaimedUpgradeTimeout: 1000,
});

/** ResolvedAttachOptions are attachWs() options after defaults and validation. */
export interface ResolvedAttachOptions extends ResolvedWsOptions {
  unclaimedUpgradeTimeout: number;
}

/** resolveAttachOptions applies defaults and throws InvalidArgumentError naming a bad option. */
export function resolveAttachOptions(options: AttachWsOptions = {}): ResolvedAttachOptions {
  const given = options as Record<string, unknown>;
  // Checked at run time too: JavaScript callers (and spread option objects) get no compile error.
  for (const name of SERVER_OWNED) {
    if (given[name] !== undefined) {
      throw new InvalidArgumentError(
        name,
        name === 'page'
          ? 'attachWs leaves plain HTTP to your app; serve renderPage(path) from a route of your own'
          : 'belongs to the server attachWs mounts on; set it there (http.createServer, https.createServer, server.headersTimeout)',
      );
    }
  }
  const { unclaimedUpgradeTimeout, ...rest } = options;
  return {
    ...resolveWsOptions(rest),
    unclaimedUpgradeTimeout: checkMs(
      'unclaimedUpgradeTimeout',
      unclaimedUpgradeTimeout ?? ATTACH_WS_DEFAULTS.unclaimedUpgradeTimeout,
    ),
  };
}
