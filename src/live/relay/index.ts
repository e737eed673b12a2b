/**
 * The relay's live page (`netkit relay --web`): every proxy of a RelayHub,
 * its connections and their traffic as they happen, and its faults
 * changed from the page through the relay's Toxiproxy API.
 */
import type { RelayHub } from '../../relay/hub.js';
import type { Listener } from '../../tcp/listener.js';
import { type LiveOptions, type LiveServer, serveLive } from '../server.js';
import { relayLiveApi } from './api.js';
import { renderRelayPage } from './page.js';
import { type RelayLiveOptions, RelayLiveSource } from './source.js';

export { relayLiveApi } from './api.js';
export { renderRelayPage } from './page.js';
export {
  type ClosedView,
  type ConnView,
  RELAY_LIVE_DEFAULTS,
  type RelayLiveOptions,
  RelayLiveSource,
  type RelaySnapshot,
  type TrafficView,
} from './source.js';

/** RelayLiveServeOptions are serveLive's options without page, source and api, and the source's bounds. */
export type RelayLiveServeOptions = Omit<LiveOptions, 'page' | 'source' | 'api'> & RelayLiveOptions;

/**
 * serveRelayLive serves the relay page for `hub` on `address` (loopback
 * unless told otherwise; give `token` beyond it). It watches the hub from
 * now on; closing the server stops watching, and leaves the proxies running.
 */
export async function serveRelayLive(
  address: Listener | string,
  hub: RelayHub,
  options: RelayLiveServeOptions = {},
): Promise<LiveServer> {
  const { maxTrafficBytes, maxTrafficChunks, maxTotalTrafficBytes, maxClosed, bytesInterval, ...live } =
    options;
  const source = new RelayLiveSource(hub, {
    ...(maxTrafficBytes !== undefined ? { maxTrafficBytes } : {}),
    ...(maxTrafficChunks !== undefined ? { maxTrafficChunks } : {}),
    ...(maxTotalTrafficBytes !== undefined ? { maxTotalTrafficBytes } : {}),
    ...(maxClosed !== undefined ? { maxClosed } : {}),
    ...(bytesInterval !== undefined ? { bytesInterval } : {}),
  });
  return serveLive(address, {
    ...live,
    page: renderRelayPage(),
    source,
    api: relayLiveApi(hub, source),
  });
}
