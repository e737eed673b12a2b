/** The rendezvous: a server a sender and a receiver both dial out to, which pairs them by room and pipes their (end-to-end encrypted) bytes. */
export { JOIN_DEFAULTS, type JoinOptions, joinRendezvous } from './join.js';
export { ROOM_PATTERN, type Role } from './protocol.js';
export {
  RENDEZVOUS_DEFAULTS,
  Rendezvous,
  type RendezvousEvent,
  type RendezvousOptions,
  type RoomBytes,
  type RoomInfo,
  serveRendezvous,
} from './server.js';
