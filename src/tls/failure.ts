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
  if (e?.code !== undefined && Object.hasOwn(TLS_CODE_REASONS, e.code)) return TLS_CODE_REASONS[e.code]!;
  const plain = plainScheme === 'tcp' ? 'plain TCP' : `plain ${plainScheme}://`;
  if (/disconnected before secure TLS connection/i.test(message)) {
    // A TLS server that refuses says why in an alert; closing without a word is what a plain-text server does.
    return `the peer closed the connection during the handshake without a TLS alert: it likely does not speak TLS; is it a ${plain} server?`;
  }
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1]?.trim();
  if (reason === undefined) return message;
  if (/wrong version number|packet length too long|http request|unknown protocol/i.test(reason)) {
    return `the peer does not speak TLS (${reason}); is it a ${plain} server?`;
  }
  if (/^unexpected message$/i.test(reason)) {
    // What a client reads when its ClientHello comes back: an echo server, the commonest plain-text peer.
    return `the peer does not speak TLS (${reason}: an echo server sends the handshake back); is it a ${plain} server?`;
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

/**
 * isTlsFailure is true for an error that comes from TLS itself rather than
 * from the network below it: a certificate check, a pin, or an OpenSSL
 * error or alert (`ERR_SSL_…`, "SSL routines"). In TLS 1.3 the client's
 * handshake ends before the server has judged its certificate, so a
 * refusal ("certificate required") arrives as such an error on the first
 * read, after the connection looked secure; clients use this to report it
 * as the TLS failure it is.
 */
export function isTlsFailure(err: unknown): boolean {
  const e = err as (Error & { code?: unknown }) | undefined;
  if (!(e instanceof Error)) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === PIN_MISMATCH || code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code.startsWith('ERR_SSL_')) {
    return true;
  }
  return Object.hasOwn(TLS_CODE_REASONS, code) || /SSL routines/.test(e.message);
}

/** tlsError is the NETKIT_TLS_FAILED error for a failed handshake with `address`. */
export function tlsError(err: unknown, address: string, plainScheme: string): ConnectionError {
  return new ConnectionError('NETKIT_TLS_FAILED', `tls ${address}: ${tlsReason(err, plainScheme)}`, address, {
    cause: err,
  });
}
