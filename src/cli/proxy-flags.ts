// The tunnel's parsing files, not tunnel/index.js: that also loads the dialers, which
// only a command that goes through a proxy needs (proxyFromFlag's callers load them then).
import { type ProxyEnv, type ProxyOption, proxyVarFromEnv } from '../tunnel/env.js';
import { NoProxy } from '../tunnel/no-proxy.js';
import { type ProxySpec, parseProxyUrl } from '../tunnel/proxy-url.js';
import type { Command } from './commander.js';

/** ProxyFlags are the forward-proxy flags of the client commands. */
export interface ProxyFlags {
  proxy?: string;
  noproxy?: string;
}

/**
 * addProxyFlags adds `--proxy URL` to a client command, and with `env`
 * (the http and ws commands, which read HTTP_PROXY and friends as curl
 * does) `--noproxy LIST`.
 */
export function addProxyFlags(cmd: Command, env: boolean): Command {
  cmd.option(
    '--proxy <url>',
    `go through a forward proxy: http://[user:pass@]host:port (CONNECT), socks5:// (name resolved here), socks5h:// (by the proxy)${env ? "; '' ignores the environment's" : ''}`,
  );
  if (env) {
    cmd.option('--noproxy <hosts>', "hosts that go direct, in NO_PROXY's syntax (replaces it); '*' for all");
  }
  return cmd;
}

/** PROXY_HELP is the help text's paragraph on proxies, for commands that read the environment or not. */
export function proxyHelp(env: boolean): string {
  return env
    ? 'Proxies: --proxy, else HTTP_PROXY / HTTPS_PROXY / ALL_PROXY with NO_PROXY, lower case first (see docs/proxies.md).'
    : 'Proxies: --proxy only; the proxy environment variables are not read (see docs/proxies.md).';
}

/**
 * proxyFromFlag is the proxy given with `--proxy` (undefined for none or
 * ''), parsed now so a bad URL is a usage error naming `--proxy`.
 */
export function proxyFromFlag(flags: ProxyFlags): ProxySpec | undefined {
  return flags.proxy === undefined || flags.proxy === '' ? undefined : parseProxyUrl(flags.proxy, '--proxy');
}

/**
 * proxyChooser is the `proxy` option of the http and ws commands: the one
 * `--proxy` gives, else the environment's for each URL; `--noproxy`
 * exempts hosts from either, replacing NO_PROXY.
 */
export function proxyChooser(flags: ProxyFlags, env: ProxyEnv): ProxyOption | undefined {
  const exempt = flags.noproxy === undefined ? undefined : new NoProxy(flags.noproxy);
  const direct = (url: URL) => exempt?.matches(url.hostname, portOf(url)) === true;
  if (flags.proxy !== undefined) {
    const given = proxyFromFlag(flags);
    if (given === undefined) return undefined;
    return exempt === undefined ? given : (url) => (direct(url) ? undefined : given);
  }
  const scoped = exempt === undefined ? env : { ...env, no_proxy: undefined, NO_PROXY: undefined };
  return (url) => {
    if (direct(url)) return undefined;
    const chosen = proxyVarFromEnv(url, scoped);
    return chosen === undefined ? undefined : parseProxyUrl(chosen.value, chosen.name);
  };
}

function portOf(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80));
}
