import { createPrivateKey, webcrypto } from 'node:crypto';
import net from 'node:net';
import type * as Pkijs from 'pkijs';
import { parseIPv4, parseIPv6 } from '../addr/ip.js';
import { InvalidArgumentError } from '../errors.js';
import { fingerprintOf } from './fingerprint.js';

// pkijs, asn1js and their hashing code are about 40 modules: loaded on the first
// certificate made, not when a program that may never make one imports netkit.
let asn1Libs: Promise<[typeof import('asn1js'), typeof Pkijs]> | undefined;
function loadAsn1Libs(): Promise<[typeof import('asn1js'), typeof Pkijs]> {
  asn1Libs ??= Promise.all([import('asn1js'), import('pkijs')]);
  return asn1Libs;
}

/** Ephemeral is a self-signed certificate made at start-up, with its key and fingerprint. */
export interface Ephemeral {
  /** cert is the certificate, PEM. */
  readonly cert: string;
  /** key is its private key, PKCS#8 PEM. */
  readonly key: string;
  /** fingerprint is `sha256:` and the certificate's SHA-256 in hex, for a client's pin. */
  readonly fingerprint: string;
}

// OIDs of the X.509 pieces an ephemeral server certificate needs (RFC 5280).
const OID = Object.freeze({
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
});

/** VALIDITY_MS is how long an ephemeral certificate is valid: a week, far beyond any session. */
const VALIDITY_MS = 7 * 24 * 3600 * 1000;

/**
 * selfSigned makes an ECDSA P-256 certificate for `hosts` (names and IP
 * literals, which become its subject alternative names) valid from a minute
 * ago for a week, signed by its own key. The ASN.1 is built by pkijs, a
 * well-kept X.509 library; the key and signature come from Node's WebCrypto.
 * A client trusts it by pinning the fingerprint, not through a CA.
 */
export async function selfSigned(hosts: readonly string[]): Promise<Ephemeral> {
  checkHosts('hosts', hosts);
  const [asn1js, pkijs] = await loadAsn1Libs();
  const crypto = webcrypto;
  // pkijs is typed against the DOM's Crypto; Node's webcrypto is the same API.
  const engine = new pkijs.CryptoEngine({ name: 'netkit', crypto: crypto as never });
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = crypto.getRandomValues(new Uint8Array(16));
  // A positive INTEGER (RFC 5280 4.1.2.2) in DER's minimal form: a leading zero byte before one
  // under 0x80 is "illegal padding" to OpenSSL, which then refuses the certificate (1 time in 256).
  serial[0] = serial[0]! & 0x7f || 1;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  const name = new pkijs.AttributeTypeAndValue({
    type: OID.commonName,
    value: new asn1js.Utf8String({ value: hosts[0]! }),
  });
  cert.issuer.typesAndValues.push(name);
  cert.subject.typesAndValues.push(name);
  const now = Date.now();
  cert.notBefore.value = new Date(now - 60_000);
  cert.notAfter.value = new Date(now + VALIDITY_MS);
  const names = [...new Set(hosts)].map((h) =>
    net.isIP(h) === 0
      ? new pkijs.GeneralName({ type: 2, value: h })
      : new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(h) }) }),
  );
  // keyUsage digitalSignature (bit 0): all an ECDSA TLS server key does.
  const keyUsage = new asn1js.BitString({ valueHex: new Uint8Array([0x80]), unusedBits: 7 });
  cert.extensions = [
    ext(pkijs, OID.subjectAltName, false, new pkijs.GeneralNames({ names }).toSchema()),
    ext(pkijs, OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
    ext(pkijs, OID.keyUsage, true, keyUsage),
    ext(
      pkijs,
      OID.extKeyUsage,
      false,
      new pkijs.ExtKeyUsage({ keyPurposes: [OID.serverAuth, OID.clientAuth] }).toSchema(),
    ),
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey as never, engine);
  await cert.sign(keys.privateKey as never, 'SHA-256', engine);
  const der = Buffer.from(cert.toSchema(true).toBER(false));
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return Object.freeze({
    cert: pem('CERTIFICATE', der),
    key: key.export({ format: 'pem', type: 'pkcs8' }) as string,
    fingerprint: fingerprintOf(der),
  });
}

/** HOST_NAME is a DNS name a certificate can carry: dot-separated labels, a `*.` wildcard first. */
const HOST_NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

/**
 * checkHosts makes sure `hosts` are what a certificate can be made for: a
 * non-empty array of host names and IP literals (NETKIT_INVALID_ARGUMENT
 * naming `option` otherwise). A string is refused rather than spread into
 * one host per character.
 */
export function checkHosts(option: string, hosts: unknown): void {
  if (!Array.isArray(hosts) || hosts.length === 0) {
    throw new InvalidArgumentError(option, 'must be a non-empty array of host names and IP addresses');
  }
  for (const h of hosts) {
    if (typeof h !== 'string' || (net.isIP(h) === 0 && (h.length > 253 || !HOST_NAME.test(h)))) {
      throw new InvalidArgumentError(option, `${JSON.stringify(h)} is neither a host name nor an IP address`);
    }
  }
}

function ext(
  pkijs: typeof Pkijs,
  id: string,
  critical: boolean,
  value: { toBER(sizeOnly?: boolean): ArrayBuffer },
): Pkijs.Extension {
  return new pkijs.Extension({ extnID: id, critical, extnValue: value.toBER(false) });
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function ipBytes(ip: string): Uint8Array {
  // Go keeps IPv4 in 16 bytes; a certificate carries 4 (RFC 5280 4.2.1.6).
  if (net.isIPv4(ip)) return parseIPv4(ip)?.subarray(-4) ?? new Uint8Array(0);
  // A zone (fe80::1%eth0) names a link on this host; a certificate carries the address alone.
  return parseIPv6(ip.replace(/%.*$/, '')) ?? new Uint8Array(0);
}
