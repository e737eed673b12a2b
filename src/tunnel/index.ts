/**
 * netkit/tunnel: clients reaching their target through a forward proxy, as
 * curl and ncat do: HTTP CONNECT (`http://`) and SOCKS5 (`socks5://`,
 * `socks5h://`), with the proxy environment variables read as curl reads
 * them. (The PROXY protocol a load balancer speaks to a server is
 * netkit/proxy.)
 *
 * @module netkit/tunnel
 */
export {
  type DialTunnelOptions,
  dialTunnel,
  type OpenTunnelOptions,
  openTunnel,
  TUNNEL_DEFAULTS,
} from './dial.js';
export {
  checkProxyOption,
  chooseProxy,
  type ProxyEnv,
  type ProxyOption,
  proxyFromEnv,
  proxyVarFromEnv,
} from './env.js';
export { NoProxy } from './no-proxy.js';
export {
  DEFAULT_PROXY_PORT,
  PROXY_SCHEMES,
  type ProxyInput,
  type ProxyScheme,
  type ProxySpec,
  parseProxyUrl,
} from './proxy-url.js';
export { SOCKS5_REPLIES, socks5Meaning } from './socks5.js';
