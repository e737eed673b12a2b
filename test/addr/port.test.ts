/**
 * Ports and service names with Go's rules: parsePort (net/port.go),
 * lookupPortMap and LookupPort (net/lookup.go), readServices
 * (net/port_unix.go). Expected values were checked against Go 1.19.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lookupPort, parsePort } from '../../src/addr/index.js';
import { lookupPortMap } from '../../src/addr/port.js';
import { builtinServices, parseServices } from '../../src/addr/services.js';
import { AddrError, type ErrorCode } from '../../src/errors.js';

test("parsePort follows Go's parsePort, quirks included", () => {
  const cases: [service: string, port: number, needsLookup: boolean][] = [
    ['', 0, false],
    ['0', 0, false],
    ['80', 80, false],
    ['080', 80, false],
    ['65535', 65535, false],
    ['65536', 65536, false], // range is checked by lookupPort
    ['+80', 80, false],
    ['-1', -1, false],
    ['-0', 0, false],
    ['+', 0, false],
    ['-', 0, false],
    ['++80', 0, true],
    ['+-80', 0, true],
    [' 80', 0, true],
    ['80 ', 0, true],
    ['8o', 0, true],
    ['http', 0, true],
    ['٨٠', 0, true], // Arabic-Indic digits are not digits to Go
    ['1073741823', 1073741823, false], // 1<<30 - 1
    ['1073741824', 1073741823, false], // clamped at the cutoff
    ['-1073741824', -1073741824, false],
    ['-1073741825', -1073741824, false],
    ['99999999999999999999', 1073741823, false],
    ['4294967300', 4, false], // Go's uint32 multiply wraps before the cutoff check
    ['4294967296', 1073741823, false], // the add overflows, which Go does catch
    ['-4294967301', -5, false],
  ];
  for (const [i, [service, port, needsLookup]] of cases.entries()) {
    const got = parsePort(service);
    assert.deepEqual(
      got,
      { port, needsLookup },
      `#${i}: parsePort(${JSON.stringify(service)}) got ${JSON.stringify(got)} want ${JSON.stringify({ port, needsLookup })}`,
    );
  }
});

test("lookupPort resolves numbers and Go's built-in service names", async () => {
  const cases: [network: string, service: string, port: number][] = [
    ['tcp', '', 0],
    ['tcp', '443', 443],
    ['tcp', 'http', 80],
    ['tcp', 'HTTP', 80],
    ['tcp4', 'Https', 443],
    ['tcp6', 'ssh', 22],
    ['udp', 'domain', 53],
    ['udp6', 'DOMAIN', 53],
    ['tcp5', '80', 80], // Go checks the network only when a name must be looked up
    ['', '80', 80],
  ];
  for (const [i, [network, service, port]] of cases.entries()) {
    const got = await lookupPort(network, service);
    assert.equal(got, port, `#${i}: lookupPort(${network}, ${service}) got ${got} want ${port}`);
  }
});

test("lookupPort fails with Go's error text", async () => {
  const cases: [network: string, service: string, code: ErrorCode, message: string][] = [
    ['tcp', '65536', 'NETKIT_INVALID_PORT', 'address 65536: invalid port'],
    ['tcp', '-1', 'NETKIT_INVALID_PORT', 'address -1: invalid port'],
    ['tcp', '+99999', 'NETKIT_INVALID_PORT', 'address +99999: invalid port'],
    ['tcp', '-4294967301', 'NETKIT_INVALID_PORT', 'address -4294967301: invalid port'],
    ['tcp', 'nope-not-a-service', 'NETKIT_UNKNOWN_PORT', 'address tcp/nope-not-a-service: unknown port'],
    ['tcp6', 'nope-not-a-service', 'NETKIT_UNKNOWN_PORT', 'address tcp/nope-not-a-service: unknown port'],
    ['udp', 'http', 'NETKIT_UNKNOWN_PORT', 'address udp/http: unknown port'],
    ['', 'http', 'NETKIT_UNKNOWN_PORT', 'address ip/http: unknown port'],
    ['tcp5', 'http', 'NETKIT_UNKNOWN_NETWORK', 'address tcp5: unknown network'],
    [
      'tcp',
      'abcdefghijklmnopqrstuvwxyz',
      'NETKIT_UNKNOWN_PORT',
      'address tcp/abcdefghijklmnopqrstuvwxyz: unknown port',
    ],
  ];
  for (const [i, [network, service, code, message]] of cases.entries()) {
    await assert.rejects(
      lookupPort(network, service),
      (err: unknown) => {
        assert.ok(err instanceof AddrError, `#${i}: got ${String(err)}, want AddrError`);
        assert.equal(
          err.code,
          code,
          `#${i}: lookupPort(${network}, ${service}) got ${err.code} want ${code}`,
        );
        assert.equal(
          err.message,
          message,
          `#${i}: got ${JSON.stringify(err.message)} want ${JSON.stringify(message)}`,
        );
        return true;
      },
      `#${i}: lookupPort(${network}, ${service}) resolved`,
    );
  }
});

test("parseServices reads a services file as Go's readServices does", () => {
  const text = [
    '# comment line',
    'http\t\t80/tcp\t\twww www-http\t# World Wide Web HTTP',
    'myproto 7000/udp alias1 alias2',
    'dup 1/tcp',
    'dup 2/tcp',
    'Upper 5000/tcp',
    'zero 0/tcp',
    'noslash 6000',
    'badport x/tcp',
    'onlyname',
    'crlf 7001/tcp\r',
    'odd 7002/tcp/x',
    'http 8080/tcp', // overrides the built-in http
    '',
  ].join('\n');
  const m = parseServices(text, builtinServices());
  const cases: [proto: string, name: string, want: number | undefined][] = [
    ['tcp', 'www', 80],
    ['tcp', 'www-http', 80],
    ['udp', 'myproto', 7000],
    ['udp', 'alias2', 7000],
    ['tcp', 'dup', 2],
    ['tcp', 'Upper', 5000],
    ['tcp', 'zero', undefined],
    ['tcp', 'noslash', undefined],
    ['tcp', 'badport', undefined],
    ['tcp', 'crlf', 7001],
    ['tcp/x', 'odd', 7002],
    ['tcp', 'http', 8080],
    ['tcp', 'ssh', 22],
  ];
  for (const [i, [proto, name, want]] of cases.entries()) {
    const got = m.get(proto)?.get(name);
    assert.equal(got, want, `#${i}: ${proto}/${name} got ${got} want ${want}`);
  }
});

test('lookupPortMap lowercases the query but not the table, as Go does', () => {
  const m = parseServices('Upper 5000/tcp\nlower 5001/tcp\n', builtinServices());
  assert.equal(lookupPortMap(m, 'tcp', 'LOWER'), 5001);
  for (const [i, name] of ['Upper', 'upper', 'UPPER'].entries()) {
    assert.throws(
      () => lookupPortMap(m, 'tcp', name),
      (err: unknown) => err instanceof AddrError && err.code === 'NETKIT_UNKNOWN_PORT',
      `#${i}: ${name} should be unknown: Go lowercases the query but stored "Upper" as written`,
    );
  }
  // Go's 25-byte lookup buffer: a longer name never matches, even if listed.
  const long = 'a'.repeat(26);
  const m2 = parseServices(`${long} 1234/tcp\n${long.slice(1)} 1235/tcp\n`, builtinServices());
  assert.equal(lookupPortMap(m2, 'tcp', long.slice(1)), 1235);
  assert.throws(() => lookupPortMap(m2, 'tcp', long), { code: 'NETKIT_UNKNOWN_PORT' });
});
