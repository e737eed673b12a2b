/**
 * `netkit/udp`: UDP sockets with Go's address rules — bind and dial, a
 * promise-based receive with timeouts and cancellation, async iteration, and
 * size checks that refuse a datagram UDP cannot carry before it is sent.
 *
 * @module netkit/udp
 */
export { bind, dial } from './bind.js';
export {
  type Datagram,
  type DatagramHandler,
  DatagramSocket,
  type ReceiveOptions,
  type UdpOptions,
} from './datagram-socket.js';
export { DEFAULT_MAX_QUEUE, MAX_UDP_PAYLOAD_V4, MAX_UDP_PAYLOAD_V6, maxPayload } from './limits.js';
