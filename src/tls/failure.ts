import { ConnectionError } from '../errors.js';

/** PIN_MISMATCH marks the error a pinned client raises for a certificate that is not the pinned one. */
export const PIN_MISMATCH = 'NETKIT_PIN_MISMATCH';

/** TLS_CODE_REASONS says, in words a person can act on, what Node's certificate error codes mean. */
const TLS_CODE_REASONS: Readonly<Record<string, string>> = Object.freeze({
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet (check the clocks)',
  DEPTH_ZERO_SELF_SIGNED_CERT:
    'unknown CA: the certificate is self-signed; trust it with --cacert FILE or --pin sha256:…',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA: the chain ends in an untrusted root; trust it with --cacert FILE',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA: no trusted issuer for the certificate; pass --cacert FILE',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA: no trusted issuer for the certificate; pass --cacert FILE',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown CA: the issuer certificate is missing; pass --cacert FILE',
  CERT_REVOKED: 'the certificate was revoked',
  CERT_SIGNATURE_FAILURE: 'the certificate signature does not verify',
});

/**
 * tlsReason says in words why a TLS handshake failed. OpenSSL's text
 * (`write EPROTO 800C…:error:0A00010B:SSL routines:ssl3_get_record:wrong
 * version number:../deps/openssl/…:350:`) is cut to its reason; the reasons
 * that mean the peer answered in plain text say so, with the scheme to use
 * instead (`plainScheme`: `http`, `ws`, or `tcp` for a raw stream); the
 * alerts a server sends for a missing or refused client certificate say so.
 */
export function tlsReason(err: unknown, plainScheme: string): string {
  const e = err as (Error & { code?: string }) | undefined;
  const message = e instanceof Error ? e.message : String(err);
  if (e?.code === PIN_MISMATCH) return message;
  if (e?.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `wrong host: ${message.replace(/^Hostname\/IP does not match certificate's altnames: /, '')}`;
  }
  if (e?.code !== undefined && TLS_CODE_REASONS[e.code] !== undefined) return TLS_CODE_REASONS[e.code]!;
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1]?.trim();
  if (reason === undefined) return message;
  if (/wrong version number|packet length too long|http request|unknown protocol/i.test(reason)) {
    const scheme = plainScheme === 'tcp' ? 'plain TCP' : `plain ${plainScheme}://`;
    return `the peer does not speak TLS (${reason}); is it a ${scheme} server?`;
  }
  if (/certificate required/i.test(reason)) {
    return `client certificate required: the server asks for one; pass --cert FILE --key FILE (${reason})`;
  }
  if (/unknown ca|bad certificate|certificate unknown/i.test(reason)) {
    return `the server refused the client certificate (${reason})`;
  }
  if (/unsupported protocol|protocol version/i.test(reason)) {
    return `no TLS version in common (netkit needs TLS 1.2 or later): ${reason}`;
  }
  return `handshake failed: ${reason}`;
}

/** tlsError is the NETKIT_TLS_FAILED error for a failed handshake with `address`. */
export function tlsError(err: unknown, address: string, plainScheme: string): ConnectionError {
  return new ConnectionError('NETKIT_TLS_FAILED', `tls ${address}: ${tlsReason(err, plainScheme)}`, address, {
    cause: err,
  });
}
