/** Certificate fingerprints and the pins a client gives: every accepted spelling, and what is refused. */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { selfSigned } from '../../src/tls/ephemeral.js';
import { fingerprintOf, fingerprintOfPem, parsePin } from '../../src/tls/fingerprint.js';

const HEX = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const WANT = `sha256:${HEX}`;
const COLONS = HEX.toUpperCase().match(/../g)!.join(':');
const B64 = Buffer.from(HEX, 'hex').toString('base64');

test('parsePin accepts hex, openssl colons and base64, and normalises to sha256:<lower hex>', () => {
  const cases: [string, string][] = [
    [`sha256:${HEX}`, WANT],
    [`sha256:${HEX.toUpperCase()}`, WANT],
    [`SHA256:${HEX}`, WANT],
    // What `openssl x509 -fingerprint -sha256` prints after "Fingerprint=".
    [`sha256:${COLONS}`, WANT],
    [`  sha256:${HEX}\n`, WANT],
    [`sha256:${B64}`, WANT],
    [`sha256:${B64.replace(/=$/, '')}`, WANT],
    // HPKP's spelling, sha256/<base64>.
    [`sha256/${B64}`, WANT],
  ];
  for (const [i, [input, want]] of cases.entries()) {
    assert.equal(parsePin('pin', input), want, `#${i}: parsePin(${JSON.stringify(input)})`);
  }
});

test('parsePin refuses anything else with NETKIT_INVALID_ARGUMENT naming the option', () => {
  const cases = [
    '',
    HEX, // no algorithm
    `sha1:${HEX.slice(0, 40)}`,
    `sha512:${HEX}${HEX}`,
    'sha256:',
    `sha256:${HEX.slice(0, 63)}`,
    `sha256:${HEX}0`,
    `sha256:${HEX.slice(0, 62)}zz`,
    `sha256:${Buffer.alloc(31, 1).toString('base64')}`,
    `sha256:${Buffer.alloc(33, 1).toString('base64')}`,
    `sha256:${B64.replaceAll('+', '-').replaceAll('/', '_')}x`,
    `sha256 ${HEX}`,
    `sha256:${HEX} extra`,
  ];
  for (const [i, input] of cases.entries()) {
    assert.throws(
      () => parsePin('tls.pin', input),
      (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError, `#${i}: ${JSON.stringify(input)}: ${String(err)}`);
        assert.equal(err.code, 'NETKIT_INVALID_ARGUMENT');
        assert.equal(err.option, 'tls.pin');
        return true;
      },
      `#${i}: parsePin(${JSON.stringify(input)}) should throw`,
    );
  }
});

test('fingerprintOf is sha256: and the hex SHA-256 of the DER; fingerprintOfPem takes a chain’s leaf', async () => {
  const a = await selfSigned(['localhost']);
  const b = await selfSigned(['localhost']);
  const der = new X509Certificate(a.cert).raw;
  assert.equal(fingerprintOf(der), `sha256:${createHash('sha256').update(der).digest('hex')}`);
  assert.equal(fingerprintOfPem(a.cert), a.fingerprint);
  assert.equal(fingerprintOfPem(a.cert + b.cert), a.fingerprint);
  assert.equal(fingerprintOfPem(Buffer.from(b.cert)), b.fingerprint);
  // Node's own colon form says the same.
  assert.equal(
    parsePin('pin', `sha256:${new X509Certificate(a.cert).fingerprint256}`),
    fingerprintOfPem(a.cert),
  );
});
