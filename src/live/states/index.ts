/**
 * The live page of `netkit states --web`: StatesSource samples the TCP
 * table while a page is open; renderStatesPage is the page that shows it.
 */
import type { Listener } from '../../tcp/listener.js';
import { type LiveOptions, type LiveServer, serveLive } from '../server.js';
import { renderStatesPage } from './page.js';
import { StatesSource, type StatesSourceOptions } from './source.js';

export { DIAGRAM_STATES } from './diagram.js';
export { renderStatesPage } from './page.js';
export {
  type LeakWarning,
  type SocketView,
  STATES_SOURCE_DEFAULTS,
  type StatesSample,
  type StatesSnapshot,
  StatesSource,
  type StatesSourceOptions,
  type Transition,
} from './source.js';

/** StatesLiveServeOptions configure serveStatesLive(): the page's server and what it samples. */
export type StatesLiveServeOptions = Omit<LiveOptions, 'page' | 'source' | 'api'> & StatesSourceOptions;

/**
 * serveStatesLive serves the live page of the TCP table on `address`: the
 * state diagram with live counts, the sockets, the timeline and the
 * CLOSE_WAIT warning, sampled only while a page is open. Beyond loopback it
 * needs `token` (see serveLive). Closing the server stops the sampling.
 */
export async function serveStatesLive(
  address: Listener | string,
  options: StatesLiveServeOptions = {},
): Promise<LiveServer> {
  const { read, interval, warnAfter, maxTimeline, maxSockets, ...live } = options;
  const source = new StatesSource({
    ...(read !== undefined ? { read } : {}),
    ...(interval !== undefined ? { interval } : {}),
    ...(warnAfter !== undefined ? { warnAfter } : {}),
    ...(maxTimeline !== undefined ? { maxTimeline } : {}),
    ...(maxSockets !== undefined ? { maxSockets } : {}),
  });
  return serveLive(address, { ...live, page: renderStatesPage(), source });
}
