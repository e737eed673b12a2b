/**
 * netkit/transfer: send files and directories between hosts, verified with
 * SHA-256, resumable, into a receiver that only writes inside its directory.
 * See docs/transfer.md.
 */
export { TransferError } from '../errors.js';
export type { TransferEvent, TransferSummary } from './events.js';
export { checkRelativePath, MAX_COMPONENT_BYTES, MAX_PATH_BYTES } from './paths.js';
export { MAGIC, PROTOCOL_VERSION } from './protocol.js';
export { FileReceiver, RECEIVER_DEFAULTS, type ReceiverOptions, serveFiles } from './receiver.js';
export { type SendOptions, sendFiles } from './send.js';
export type { OverwritePolicy } from './store.js';
export type { Skipped } from './tree.js';
