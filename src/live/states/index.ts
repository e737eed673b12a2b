/**
 * The live page of `netkit states --web`: StatesSource samples the TCP
 * table while a page is open; renderStatesPage is the page that shows it.
 */
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
