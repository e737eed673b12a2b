/**
 * TLS server options are checked before anything is bound, each failure
 * naming the option: node:tls would spread a string into one-letter
 * protocols or hosts, skip a CA it cannot parse without a word, or throw
 * its own error after the port was bound.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { type ListenOptions, listen } from '../../src/tcp/index.js';
import { selfSigned } from '../../src/tls/ephemeral.js';
import { openFds, until } from '../helpers/net.js';

test('TLS options are refused before anything is bound, each naming the option', async () => {
  const fds = openFds();
  const notCert = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
  const cases: [unknown, string][] = [
    [{ alpn: 'http/1.1' }, 'tls.alpn'],
    [{ alpn: [''] }, 'tls.alpn'],
    [{ alpn: ['x'.repeat(256)] }, 'tls.alpn'],
    [{ hosts: 'localhost' }, 'tls.hosts'],
    [{ hosts: [] }, 'tls.hosts'],
    [{ hosts: ['a b'] }, 'tls.hosts'],
    [{ hosts: [''] }, 'tls.hosts'],
    [{ clientCA: notCert }, 'tls.clientCA'],
    [{ clientCA: 'not pem' }, 'tls.clientCA'],
    [{ handshakeTimeout: -1 }, 'tls.handshakeTimeout'],
    [{ maxHandshakes: 0 }, 'tls.maxHandshakes'],
    [{ cert: notCert }, 'tls.key'],
    [7, 'tls'],
  ];
  for (const [i, [tlsOption, option]] of cases.entries()) {
    await assert.rejects(
      listen('127.0.0.1:0', { tls: tlsOption as ListenOptions['tls'] }),
      (err: { code?: string; option?: string }) => {
        assert.equal(err.code, 'NETKIT_INVALID_ARGUMENT', `#${i}: ${JSON.stringify(tlsOption)}`);
        assert.equal(err.option, option, `#${i}: ${JSON.stringify(tlsOption)}`);
        return true;
      },
    );
  }
  // hosts name an ephemeral certificate: beside a certificate given, they would silently do nothing.
  const pair = await selfSigned(['localhost']);
  await assert.rejects(
    listen('127.0.0.1:0', { tls: { cert: pair.cert, key: pair.key, hosts: ['example.test'] } }),
    {
      code: 'NETKIT_INVALID_ARGUMENT',
      option: 'tls.hosts',
    },
  );
  // Nothing was left bound or open by any of them.
  await until(() => openFds() <= fds, 1000, `fds back to ${fds}`);
});

test('hosts with a zone: the certificate carries the address alone', async (t) => {
  const l = await listen('[::1]:0', { tls: { hosts: ['localhost', 'fe80::1%lo'] } });
  t.after(() => l.close());
  const x = new X509Certificate(l.tls!.certificate);
  assert.equal(x.subjectAltName, 'DNS:localhost, IP Address:FE80:0:0:0:0:0:0:1');
});

test('selfSigned refuses hosts a certificate cannot carry', async () => {
  const cases: unknown[] = [[], 'localhost', [''], ['a b'], [42], ['bad..name'], [`${'a'.repeat(64)}.test`]];
  for (const [i, hosts] of cases.entries()) {
    await assert.rejects(
      selfSigned(hosts as string[]),
      (err: unknown) => err instanceof InvalidArgumentError && err.option === 'hosts',
      `#${i}: ${JSON.stringify(hosts)}`,
    );
  }
  // What it takes: names, a wildcard, IPv4 and IPv6 literals, an underscore some private names use.
  const ok = await selfSigned(['*.example.test', 'my_host', '192.0.2.1', '2001:db8::1']);
  assert.equal(
    new X509Certificate(ok.cert).subjectAltName,
    'DNS:*.example.test, DNS:my_host, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1',
  );
});
