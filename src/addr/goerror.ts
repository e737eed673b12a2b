/**
 * Builds netkit's AddrError with the text of Go's `*net.AddrError`.
 *
 * Internal to `netkit/addr`; not re-exported from the package index.
 */
import { AddrError, type ErrorCode } from '../errors.js';

/**
 * addrError returns an AddrError whose message is Go's
 * `AddrError.Error()`: "address <addr>: <why>", or just <why> when `addr` is
 * '' (so `SplitHostPort("")` fails with "missing port in address").
 */
export function addrError(
  code: ErrorCode,
  addr: string,
  why: string,
  options?: { cause?: unknown },
): AddrError {
  return new AddrError(code, addr === '' ? why : `address ${addr}: ${why}`, addr, options);
}
