/**
 * Certificates for TLS tests, made in-process with pkijs and WebCrypto as
 * src/tls/ephemeral.ts makes its own: a CA, leaves it signs (for servers or
 * clients, with any validity window, expired included), so no test depends
 * on openssl's flags or on faking the clock.
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import net from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** Issued is a certificate and its key, PEM, plus the WebCrypto key pair to sign others with. */
export interface Issued {
  cert: string;
  key: string;
  name: string;
  keys: webcrypto.CryptoKeyPair;
}

/** CertOptions describe one certificate; without `issuer` it is self-signed. */
export interface CertOptions {
  name: string;
  /** hosts become subject alternative names (DNS names and IP literals). */
  hosts?: readonly string[];
  /** ca makes a CA certificate (basicConstraints cA, keyCertSign). */
  ca?: boolean;
  issuer?: Issued;
  notBefore?: Date;
  notAfter?: Date;
}

const engine = new pkijs.CryptoEngine({ name: 'netkit-test', crypto: webcrypto as never });
const DAY = 24 * 3600 * 1000;

/** makeCert builds a certificate as `o` describes, signed by `o.issuer` (or itself). */
export async function makeCert(o: CertOptions): Promise<Issued> {
  const crypto = webcrypto;
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = crypto.getRandomValues(new Uint8Array(16));
  // Positive (top bit clear) and minimal (no leading zero byte): DER allows no other INTEGER.
  serial[0] = serial[0]! & 0x7f || 1;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject.typesAndValues.push(cn(o.name));
  cert.issuer.typesAndValues.push(cn(o.issuer?.name ?? o.name));
  const now = Date.now();
  cert.notBefore.value = o.notBefore ?? new Date(now - 60_000);
  cert.notAfter.value = o.notAfter ?? new Date(now + 7 * DAY);
  const ext: pkijs.Extension[] = [
    extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: o.ca === true }).toSchema()),
    // digitalSignature for a leaf; keyCertSign and cRLSign for a CA.
    extension(
      '2.5.29.15',
      true,
      o.ca
        ? new asn1js.BitString({ valueHex: new Uint8Array([0x06]), unusedBits: 1 })
        : new asn1js.BitString({ valueHex: new Uint8Array([0x80]), unusedBits: 7 }),
    ),
  ];
  if (o.hosts !== undefined && o.hosts.length > 0) {
    const names = o.hosts.map((h) =>
      net.isIP(h) === 0
        ? new pkijs.GeneralName({ type: 2, value: h })
        : new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(h) }) }),
    );
    ext.push(extension('2.5.29.17', false, new pkijs.GeneralNames({ names }).toSchema()));
  }
  if (!o.ca) {
    ext.push(
      extension(
        '2.5.29.37',
        false,
        new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] }).toSchema(),
      ),
    );
  }
  cert.extensions = ext;
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey as never, engine);
  await cert.sign((o.issuer?.keys.privateKey ?? keys.privateKey) as never, 'SHA-256', engine);
  const der = Buffer.from(cert.toSchema(true).toBER(false));
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return {
    cert: pem(der),
    key: key.export({ format: 'pem', type: 'pkcs8' }) as string,
    name: o.name,
    keys,
  };
}

/** TlsWorld is the set of certificates the client TLS tests share. */
export interface TlsWorld {
  /** ca signs `server`, `expired` and `wrongHost`; clients trust it with `ca`. */
  ca: Issued;
  /** server is valid for localhost, 127.0.0.1 and ::1. */
  server: Issued;
  /** expired was valid for the same hosts, until yesterday. */
  expired: Issued;
  /** clientCa signs `client`; a mutual-TLS server requires it. */
  clientCa: Issued;
  /** client is a client certificate signed by clientCa. */
  client: Issued;
}

let world: Promise<TlsWorld> | undefined;

/** tlsWorld makes the shared certificates once per test process. */
export function tlsWorld(): Promise<TlsWorld> {
  world ??= (async () => {
    const hosts = ['localhost', '127.0.0.1', '::1'];
    const ca = await makeCert({ name: 'netkit test CA', ca: true });
    const clientCa = await makeCert({ name: 'netkit test client CA', ca: true });
    const now = Date.now();
    return {
      ca,
      server: await makeCert({ name: 'localhost', hosts, issuer: ca }),
      expired: await makeCert({
        name: 'localhost',
        hosts,
        issuer: ca,
        notBefore: new Date(now - 30 * DAY),
        notAfter: new Date(now - DAY),
      }),
      clientCa,
      client: await makeCert({ name: 'alice', issuer: clientCa }),
    };
  })();
  return world;
}

function cn(value: string): pkijs.AttributeTypeAndValue {
  return new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value }) });
}

function extension(
  id: string,
  critical: boolean,
  value: { toBER(sizeOnly?: boolean): ArrayBuffer },
): pkijs.Extension {
  return new pkijs.Extension({ extnID: id, critical, extnValue: value.toBER(false) });
}

function pem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function ipBytes(ip: string): Uint8Array {
  if (net.isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  // Expand "::" and write the eight groups out.
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}
