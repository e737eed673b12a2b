import { NoProxy } from './no-proxy.js';
import { type ProxyInput, type ProxySpec, parseProxyUrl } from './proxy-url.js';

/**
 * The proxy environment variables, read as curl reads them, for a URL:
 * `http_proxy` for http: and ws:, `https_proxy` for https: and wss:, then
 * `all_proxy`; `no_proxy` lists the hosts reached directly. Each is looked
 * up in lower case first, then in upper case: the lower-case one wins when
 * both are set. Unlike curl, upper-case HTTP_PROXY counts too (as in Go's
 * net/http), except in a CGI program (REQUEST_METHOD set), where a client's
 * `Proxy:` header arrives as HTTP_PROXY (httpoxy, CVE-2016-5385).
 * An empty variable is as good as unset.
 */

/** ProxyEnv is the environment to read; process.env by default. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** proxyFromEnv returns the proxy URL the environment gives for `url`, or undefined to go direct. */
export function proxyFromEnv(url: string | URL, env: ProxyEnv = process.env): string | undefined {
  return proxyVarFromEnv(url, env)?.value;
}

/**
 * proxyVarFromEnv is proxyFromEnv with the name of the variable the proxy
 * came from (`https_proxy`, `ALL_PROXY`…), so a bad value can be reported
 * naming the variable to fix.
 */
export function proxyVarFromEnv(
  url: string | URL,
  env: ProxyEnv = process.env,
):
  | {
      /** name is the variable as it is spelled in the environment (`https_proxy`, `ALL_PROXY`). */
      name: string;
      /** value is the proxy URL it holds. */
      value: string;
    }
  | undefined {
  const u = url instanceof URL ? url : new URL(url);
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  const plain = u.protocol === 'http:' || u.protocol === 'ws:';
  if (!secure && !plain) return undefined;
  const cgi = (env.REQUEST_METHOD ?? '') !== '';
  const proxy =
    (secure ? envValue(env, 'https_proxy') : envValue(env, 'http_proxy', !cgi)) ?? envValue(env, 'all_proxy');
  if (proxy === undefined) return undefined;
  const port = Number(u.port || (secure ? 443 : 80));
  if (new NoProxy(envValue(env, 'no_proxy')?.value).matches(u.hostname, port)) return undefined;
  return proxy;
}

/** envValue is `name` in lower case, else in upper case (unless `upper` is false); empty counts as unset. */
function envValue(env: ProxyEnv, name: string, upper = true): { name: string; value: string } | undefined {
  for (const key of upper ? [name.toLowerCase(), name.toUpperCase()] : [name.toLowerCase()]) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') return { name: key, value: v.trim() };
  }
  return undefined;
}

/**
 * ProxyOption is the `proxy` option of the HTTP and WebSocket clients: a
 * proxy URL, `'env'` to read the environment as proxyFromEnv does, a
 * function that picks the proxy for each URL (Go's Transport.Proxy: return
 * undefined or '' to go direct), or '' (or nothing) to go direct. The
 * library reads the environment only when asked to; the CLI asks by
 * default.
 */
export type ProxyOption = ProxyInput | 'env' | ((url: URL) => ProxyInput | undefined);

/**
 * chooseProxy picks the proxy for one request to `url` as `option` says
 * (see ProxyOption), parsed; undefined means direct.
 */
export function chooseProxy(option: ProxyOption | undefined, url: URL): ProxySpec | undefined {
  if (option === undefined || option === '') return undefined;
  if (option === 'env') {
    const fromEnv = proxyVarFromEnv(url);
    return fromEnv === undefined ? undefined : parseProxyUrl(fromEnv.value, `proxy (${fromEnv.name})`);
  }
  if (typeof option === 'function') {
    const picked = option(url);
    return picked === undefined || picked === '' ? undefined : parseProxyUrl(picked);
  }
  return parseProxyUrl(option);
}

/** checkProxyOption validates a `proxy` option up front: a URL is parsed now, so a bad one fails before any request. */
export function checkProxyOption(option: unknown): ProxyOption | undefined {
  if (option === undefined || option === '' || option === 'env' || typeof option === 'function') {
    return option as ProxyOption | undefined;
  }
  return parseProxyUrl(option as ProxyInput);
}
