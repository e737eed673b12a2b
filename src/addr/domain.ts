/**
 * Host-name checks applied before any lookup, so that names Go would never
 * send to DNS are not sent by netkit either.
 *
 * Internal to `netkit/addr`; not re-exported from the package index.
 */

/**
 * isDomainName is Go's `isDomainName` (net/dnsclient.go): LDH labels plus
 * `_`, each 1-63 bytes, at most 253 bytes in all (254 with a trailing dot),
 * no label starting with '-' or ending with '-', and at least one character
 * that is not a digit or dot (so `127.1` and `12345` are not names). Go's
 * resolver answers "no such host" for anything else without querying DNS.
 */
export function isDomainName(s: string): boolean {
  if (s === '.') return true; // the root domain (golang.org/issue/45715)
  // Non-ASCII input fails the character loop below, so counting UTF-16 code
  // units instead of Go's bytes cannot change the answer.
  const l = s.length;
  if (l === 0 || l > 254 || (l === 254 && s.charCodeAt(l - 1) !== 0x2e)) return false;
  let last = 0x2e; // '.'
  let nonNumeric = false;
  let partlen = 0;
  for (let i = 0; i < l; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f) {
      nonNumeric = true;
      partlen++;
    } else if (c >= 0x30 && c <= 0x39) {
      partlen++;
    } else if (c === 0x2d) {
      if (last === 0x2e) return false; // '-' right after '.'
      partlen++;
      nonNumeric = true;
    } else if (c === 0x2e) {
      if (last === 0x2e || last === 0x2d) return false; // ".." or "-."
      if (partlen > 63 || partlen === 0) return false;
      partlen = 0;
    } else {
      return false;
    }
    last = c;
  }
  if (last === 0x2d || partlen > 63) return false;
  return nonNumeric;
}

const INET_ATON_PART = '(?:0[xX][0-9a-fA-F]*|[0-9]+)';
const INET_ATON = new RegExp(`^${INET_ATON_PART}(?:\\.${INET_ATON_PART}){0,3}$`);

/**
 * isInetAtonNumber reports whether getaddrinfo (through `inet_aton`) would
 * read `s` as a number-and-dots IPv4 address, such as `0x7f.1` or `127.1`.
 * Go's parser does not: to Go those are host names (or invalid names), so the
 * default lookup must not let getaddrinfo turn them into 127.0.0.1.
 */
export function isInetAtonNumber(s: string): boolean {
  return INET_ATON.test(s);
}
