/**
 * Certificates for TLS tests, made with the openssl command line (not with
 * pkijs, which netkit itself uses, so a bug there cannot hide in both
 * ends): a self-signed server certificate, and a small CA with a server
 * leaf and client leaves for mutual TLS. All ECDSA P-256, valid for localhost and 127.0.0.1, in a
 * temporary directory removed after the test.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { fingerprintOfPem } from '../../src/tls/fingerprint.js';
import { requireTool } from './tools.js';

const execFileP = promisify(execFile);

/** Pem is a certificate or key: its file and its text. */
export interface Pem {
  file: string;
  pem: string;
}

/** Leaf is a certificate with its private key and fingerprint (`sha256:<hex>`). */
export interface Leaf {
  cert: Pem;
  key: Pem;
  fingerprint: string;
}

/** Pki is what makePki() writes. */
export interface Pki {
  dir: string;
  /** selfSigned is a server certificate that is its own issuer (`openssl req -x509`). */
  selfSigned: Leaf;
  /** ca signed server and client. */
  ca: Leaf;
  /** server is for localhost and 127.0.0.1, extendedKeyUsage serverAuth. */
  server: Leaf;
  /** client is CN=alice, extendedKeyUsage clientAuth. */
  client: Leaf;
  /** stranger is a client certificate from another CA (CN=mallory). */
  stranger: Leaf;
}

const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * makePki writes the certificates into a fresh temporary directory, or
 * returns undefined when openssl is missing (the test is then skipped
 * locally and fails under CI=true).
 */
export async function makePki(t: TestContext): Promise<Pki | undefined> {
  if (!(await requireTool(t, 'openssl'))) return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-pki-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const f = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => execFileP('openssl', args, { cwd: dir, timeout: 10_000 });

  const selfSigned = async (name: string, subj: string, exts: string[]) => {
    const addext = exts.flatMap((e) => ['-addext', e]);
    // biome-ignore format: one openssl command line
    await openssl(['req', '-x509', ...EC, '-days', '2', '-subj', subj, ...addext, '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`)]);
  };
  const signed = async (name: string, issuer: string, subj: string, exts: string) => {
    // biome-ignore format: one openssl command line
    await openssl(['req', '-new', ...EC, '-subj', subj, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
    await writeFile(f(`${name}.ext`), exts);
    // A fresh serial each time: two certificates from one CA with the same serial confuse verifiers.
    const serial = `0x${randomBytes(8).toString('hex')}`;
    // biome-ignore format: one openssl command line
    await openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${issuer}.crt`), '-CAkey', f(`${issuer}.key`), '-set_serial', serial, '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)]);
  };
  const caExts = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
  await Promise.all([
    selfSigned('self', '/CN=localhost', [SAN]),
    selfSigned('ca', '/CN=netkit test CA', caExts),
    selfSigned('otherca', '/CN=other CA', caExts),
  ]);
  const leafExts = (usage: string, san = '') =>
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\n${san}\n`;
  await Promise.all([
    signed('server', 'ca', '/CN=localhost', leafExts('serverAuth', SAN)),
    signed('client', 'ca', '/CN=alice', leafExts('clientAuth')),
    signed('stranger', 'otherca', '/CN=mallory', leafExts('clientAuth')),
  ]);
  const leaf = async (name: string): Promise<Leaf> => {
    const cert = await readFile(f(`${name}.crt`), 'utf8');
    const key = await readFile(f(`${name}.key`), 'utf8');
    return {
      cert: { file: f(`${name}.crt`), pem: cert },
      key: { file: f(`${name}.key`), pem: key },
      fingerprint: fingerprintOfPem(cert),
    };
  };
  return {
    dir,
    selfSigned: await leaf('self'),
    ca: await leaf('ca'),
    server: await leaf('server'),
    client: await leaf('client'),
    stranger: await leaf('stranger'),
  };
}
