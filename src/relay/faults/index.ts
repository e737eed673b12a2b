/**
 * The fault engine of `netkit relay`: Toxiproxy's toxics (and netkit's
 * few extensions), checked from Toxiproxy's JSON or the `--fault` flag,
 * and applied to one direction of a connection as a Flow.
 */
export {
  type FaultFlowOptions,
  faultFlow,
  MAX_QUEUED_BYTES,
  SYNC_POLL_MS,
  type ToxicSource,
} from './flow.js';
export { parseFault, parseFaults } from './parse.js';
export { refuses } from './refuse.js';
export {
  ATTRIBUTES,
  type AttributeInfo,
  checkToxic,
  TOXIC_TYPES,
  type ToxicSpec,
  type ToxicType,
} from './spec.js';
