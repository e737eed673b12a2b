import { ConnectionError, type NetkitError, TimeoutError } from '../errors.js';
import { errnoText, osErrorText } from '../internal/os-errors.js';
import { isTlsFailure, tlsError } from '../tls/failure.js';

/** asNetkitError maps a socket error to netkit's codes, keeping the original as `cause`. */
export function asNetkitError(err: Error, address?: string): NetkitError {
  if ('code' in err && typeof err.code === 'string' && err.code.startsWith('NETKIT_')) {
    return err as NetkitError;
  }
  // A TLS 1.3 server refuses a client certificate after the client's handshake is done: on the first read.
  if (isTlsFailure(err)) return tlsError(err, address ?? 'peer', 'tcp');
  const code = (err as NodeJS.ErrnoException).code;
  // A write into a connection the peer reset fails with EPIPE: the same reset, said as one.
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new ConnectionError(
      'NETKIT_CONNECTION_RESET',
      `${address ?? 'peer'}: ${errnoText('ECONNRESET')}`,
      address,
      { cause: err },
    );
  }
  return new ConnectionError(
    'NETKIT_CONNECTION_CLOSED',
    `${address ?? 'connection'}: ${osErrorText(err)}`,
    address,
    {
      cause: err,
    },
  );
}

/** timeoutError is the NETKIT_TIMEOUT a read or write gets past its deadline; the text is Go's. */
export function timeoutError(op: 'read' | 'write', address?: string): TimeoutError {
  return new TimeoutError('NETKIT_TIMEOUT', op, `${op} ${address ?? ''}: i/o timeout`.trim());
}

/** closedError is the NETKIT_CONNECTION_CLOSED an operation gets on a closed connection; the text is Go's. */
export function closedError(op: string, address?: string): ConnectionError {
  return new ConnectionError(
    'NETKIT_CONNECTION_CLOSED',
    `${op} ${address ?? ''}: use of closed network connection`,
    address,
  );
}
