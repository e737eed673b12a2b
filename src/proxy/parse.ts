/**
 * parseProxyHeader and signatureState: the entry points that decide between
 * v1 and v2 from the signature and hand over to the version's parser.
 */
import { ProxyError } from '../errors.js';
import { parseV1 } from './parse-v1.js';
import { parseV2 } from './parse-v2.js';
import { type ProxyParseResult, type SignatureState, V1_SIGNATURE, V2_SIGNATURE } from './types.js';

// Module-local copies: read on every call, and a loader that compiles imports
// to getters (tsx) would make each read a call.
const SIG1 = V1_SIGNATURE;
const SIG2 = V2_SIGNATURE;

/** prefixMatches reports whether the first min(buf, sig) bytes agree. */
function prefixMatches(buf: Uint8Array, sig: Uint8Array): boolean {
  const n = Math.min(buf.length, sig.length);
  for (let i = 0; i < n; i++) if (buf[i] !== sig[i]) return false;
  return true;
}

/**
 * signatureState classifies the first bytes of a stream: 'v1' or 'v2' once
 * the whole signature is there, 'partial' while it may still become one,
 * 'none' as soon as a byte rules both out. It never guesses from a prefix.
 */
export function signatureState(buf: Uint8Array): SignatureState {
  if (prefixMatches(buf, SIG1)) return buf.length >= SIG1.length ? 'v1' : 'partial';
  if (prefixMatches(buf, SIG2)) return buf.length >= SIG2.length ? 'v2' : 'partial';
  return 'none';
}

/**
 * parseProxyHeader parses the PROXY header at the start of `buf`: it returns
 * `{ header, length }` once the header is complete (bytes from `length` on
 * are application data and are not looked at), null while more bytes are
 * needed, and throws ProxyError — and nothing else — as soon as the bytes
 * cannot be a valid header. Call it again with the grown buffer on each chunk.
 */
export function parseProxyHeader(buf: Buffer): ProxyParseResult | null {
  try {
    switch (signatureState(buf)) {
      case 'v1':
        return parseV1(buf);
      case 'v2':
        return parseV2(buf);
      case 'partial':
        return null;
      default:
        throw new ProxyError('bad-signature', 'the stream does not start with a PROXY v1 or v2 signature');
    }
  } catch (err) {
    if (err instanceof ProxyError) throw err;
    // A bug here must still look like a bad header to the server, which closes the connection.
    throw new ProxyError('internal', `PROXY header parser failed: ${String((err as Error)?.message ?? err)}`);
  }
}
