import { NetkitError } from '../errors.js';
import { OUTPUT_CLOSED } from './io.js';

/**
 * EXIT is the CLI's exit codes, stable and documented in docs/cli.md, so
 * scripts can tell a refused connection from a timeout.
 */
export const EXIT = Object.freeze({
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  DIAL: 3,
  TIMEOUT: 4,
  RESET: 5,
  ADDRESS: 6,
  /** HTTP_ERROR is an HTTP status of 400 or more with `http … --fail` (curl's 22). */
  HTTP_ERROR: 22,
  INTERRUPTED: 130,
});

/**
 * stoppedExit is the exit code of a command that stopped because its signal
 * fired: 130 for Ctrl-C or SIGTERM, 0 when its output was closed (`| head`),
 * which, as for any Unix filter, is a normal end.
 */
export function stoppedExit(signal: AbortSignal): number {
  return signal.reason === OUTPUT_CLOSED ? EXIT.OK : EXIT.INTERRUPTED;
}

/** exitCodeFor maps an error to the exit code a script should see. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof NetkitError)) return EXIT.FAILURE;
  switch (err.code) {
    case 'NETKIT_INVALID_ARGUMENT':
    case 'NETKIT_FILE_ACCESS':
    case 'NETKIT_DATAGRAM_TOO_LARGE':
      return EXIT.USAGE;
    case 'NETKIT_DIAL_FAILED':
    case 'NETKIT_TLS_FAILED':
    case 'NETKIT_LISTEN_FAILED':
    case 'NETKIT_WS_HANDSHAKE':
    case 'NETKIT_HTTP_PROTOCOL':
    case 'NETKIT_TUNNEL_FAILED':
    case 'NETKIT_TUNNEL_AUTH':
    case 'NETKIT_TUNNEL_PROTOCOL':
      return EXIT.DIAL;
    case 'NETKIT_TIMEOUT':
    case 'NETKIT_CONNECT_TIMEOUT':
      return EXIT.TIMEOUT;
    case 'NETKIT_CONNECTION_RESET':
    case 'NETKIT_WS_CLOSED':
      return EXIT.RESET;
    case 'NETKIT_UNKNOWN_NETWORK':
    case 'NETKIT_ADDR_SYNTAX':
    case 'NETKIT_MISSING_PORT':
    case 'NETKIT_INVALID_PORT':
    case 'NETKIT_UNKNOWN_PORT':
    case 'NETKIT_NO_SUITABLE_ADDRESS':
    case 'NETKIT_LOOKUP_FAILED':
      return EXIT.ADDRESS;
    case 'NETKIT_ABORTED':
      return EXIT.INTERRUPTED;
    default:
      return EXIT.FAILURE;
  }
}
