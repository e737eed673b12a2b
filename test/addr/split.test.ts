/**
 * splitHostPort / joinHostPort against Go's net.SplitHostPort and
 * net.JoinHostPort (cases and texts from Go 1.19's ipsock_test.go and runs).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinHostPort, splitHostPort } from '../../src/addr/index.js';
import { AddrError, type ErrorCode } from '../../src/errors.js';

test('splitHostPort splits like Go', () => {
  const cases: [hostport: string, host: string, port: string][] = [
    ['localhost:http', 'localhost', 'http'],
    ['localhost:80', 'localhost', '80'],
    ['127.0.0.1:80', '127.0.0.1', '80'],
    ['[::1]:80', '::1', '80'],
    ['[::1%lo0]:80', '::1%lo0', '80'],
    ['[fe80::1%eth0]:0', 'fe80::1%eth0', '0'],
    ['host%zone:80', 'host%zone', '80'],
    [':80', '', '80'],
    [':', '', ''],
    ['1.2.3.4:', '1.2.3.4', ''],
    ['[]:80', '', '80'],
    ['[localhost]:80', 'localhost', '80'],
    ['[1.2.3.4]:http', '1.2.3.4', 'http'],
    ['a b:c d', 'a b', 'c d'],
  ];
  for (const [i, [hostport, host, port]] of cases.entries()) {
    const got = splitHostPort(hostport);
    assert.deepEqual(
      got,
      { host, port },
      `#${i}: splitHostPort(${JSON.stringify(hostport)}) got ${JSON.stringify(got)} want ${JSON.stringify({ host, port })}`,
    );
  }
});

test("splitHostPort fails with Go's error text", () => {
  const cases: [hostport: string, code: ErrorCode, message: string][] = [
    ['', 'NETKIT_MISSING_PORT', 'missing port in address'], // Go omits "address " when Addr is ''
    ['1.2.3.4', 'NETKIT_MISSING_PORT', 'address 1.2.3.4: missing port in address'],
    ['[::1]', 'NETKIT_MISSING_PORT', 'address [::1]: missing port in address'],
    ['[::1]80', 'NETKIT_MISSING_PORT', 'address [::1]80: missing port in address'],
    ['[a]b]:80', 'NETKIT_MISSING_PORT', 'address [a]b]:80: missing port in address'],
    ['::1', 'NETKIT_ADDR_SYNTAX', 'address ::1: too many colons in address'],
    ['::1:80', 'NETKIT_ADDR_SYNTAX', 'address ::1:80: too many colons in address'],
    ['[::1]:80:90', 'NETKIT_ADDR_SYNTAX', 'address [::1]:80:90: too many colons in address'],
    ['[::1', 'NETKIT_ADDR_SYNTAX', "address [::1: missing ']' in address"],
    ['[[::1]:80', 'NETKIT_ADDR_SYNTAX', "address [[::1]:80: unexpected '[' in address"],
    ['a[b:80', 'NETKIT_ADDR_SYNTAX', "address a[b:80: unexpected '[' in address"],
    ['a]b:80', 'NETKIT_ADDR_SYNTAX', "address a]b:80: unexpected ']' in address"],
    ['[a]:80]', 'NETKIT_ADDR_SYNTAX', "address [a]:80]: unexpected ']' in address"],
    ['[a]:b]:80', 'NETKIT_ADDR_SYNTAX', 'address [a]:b]:80: too many colons in address'],
    ['a:b]', 'NETKIT_ADDR_SYNTAX', "address a:b]: unexpected ']' in address"],
  ];
  for (const [i, [hostport, code, message]] of cases.entries()) {
    assert.throws(
      () => splitHostPort(hostport),
      (err: unknown) => {
        assert.ok(err instanceof AddrError, `#${i}: got ${String(err)}, want AddrError`);
        assert.equal(err.code, code, `#${i}: splitHostPort(${hostport}) got code ${err.code} want ${code}`);
        assert.equal(
          err.message,
          message,
          `#${i}: got ${JSON.stringify(err.message)} want ${JSON.stringify(message)}`,
        );
        assert.equal(err.addr, hostport, `#${i}: addr`);
        return true;
      },
      `#${i}: splitHostPort(${JSON.stringify(hostport)}) did not throw`,
    );
  }
});

test('joinHostPort joins like Go and round-trips through splitHostPort', () => {
  const cases: [host: string, port: string | number, want: string][] = [
    ['localhost', 'http', 'localhost:http'],
    ['127.0.0.1', 80, '127.0.0.1:80'],
    ['::1', 80, '[::1]:80'],
    ['fe80::1%eth0', '0', '[fe80::1%eth0]:0'],
    ['', 80, ':80'],
    ['', '', ':'],
    ['host%zone', 1, 'host%zone:1'],
  ];
  for (const [i, [host, port, want]] of cases.entries()) {
    const got = joinHostPort(host, port);
    assert.equal(got, want, `#${i}: joinHostPort(${host}, ${port}) got ${got} want ${want}`);
    assert.deepEqual(splitHostPort(got), { host, port: String(port) }, `#${i}: round trip`);
  }
});
