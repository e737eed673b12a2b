/**
 * netkit/transfer: send files and directories between hosts, end-to-end
 * encrypted under a code (SPAKE2, AES-256-GCM), resumable, into a receiver
 * that only writes inside its directory; directly, or through a rendezvous
 * both sides dial out to. See docs/transfer.md.
 *
 * @module netkit/transfer
 */
export { RendezvousError, TransferError } from '../errors.js';
export type { TransferEvent, TransferSummary } from './events.js';
export { checkRelativePath, MAX_COMPONENT_BYTES, MAX_PATH_BYTES } from './paths.js';
export { MAGIC, PLAIN_VERSION, PROTOCOL_VERSION } from './protocol.js';
export { type ReceiveOptions, receiveFiles } from './receive-via.js';
export { FileReceiver, RECEIVER_DEFAULTS, type ReceiverOptions, serveFiles } from './receiver.js';
export * from './rendezvous/index.js';
export { CODE_WORDS, generateCode, normalizeCode, roomOf } from './secure/codes.js';
export { type SendOptions, sendFiles } from './send.js';
export type { OverwritePolicy } from './store.js';
export type { Skipped } from './tree.js';
