/**
 * Go's IP literal rules (net.ParseIP, IP.String, IP.To4) as ported in
 * src/addr/ip.ts. Expected values were taken from Go 1.19.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDomainName, isInetAtonNumber } from '../../src/addr/domain.js';
import { ipString, isIPv4, parseIP, parseIPZone } from '../../src/addr/ip.js';

test('parseIP and ipString match Go', () => {
  // [input, Go's ip.String() or null when ParseIP returns nil, To4() != nil]
  const cases: [string, string | null, boolean][] = [
    ['1.2.3.4', '1.2.3.4', true],
    ['0.0.0.0', '0.0.0.0', true],
    ['255.255.255.255', '255.255.255.255', true],
    ['01.2.3.4', null, false],
    ['256.1.1.1', null, false],
    ['1.2.3', null, false],
    ['1.2.3.4.5', null, false],
    [' 1.2.3.4', null, false],
    ['1.2.3.4x', null, false],
    ['127.1', null, false],
    ['::', '::', false],
    ['::1', '::1', false],
    ['1::', '1::', false],
    ['1::2:3', '1::2:3', false],
    ['::ffff:1.2.3.4', '1.2.3.4', true],
    ['::1.2.3.4', '::102:304', false],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304', false],
    ['1:2:3:4:5:6:7:1.2.3.4', null, false],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', false],
    ['1:2:3:4:5:6:7:8:9', null, false],
    ['1:2:3:4:5:6:7::8', null, false],
    ['1::2::3', null, false],
    ['::ffff:01.2.3.4', null, false],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', false],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', false],
    ['0:0:0:0:0:0:0:0', '::', false],
    ['fe80::1%eth0', null, false],
    ['12345::1', null, false],
    [':1', null, false],
    ['1:', null, false],
    ['1:::2', null, false],
    ['ABCD::EF', 'abcd::ef', false],
    ['0000000001::1', '1::1', false],
    ['00000001000::1', '1000::1', false],
    ['1:2:3:4::5:6:7', '1:2:3:4:0:5:6:7', false],
    ['::0:1', '::1', false],
    ['0:1:0:0:0:1:0:0', '0:1::1:0:0', false],
    ['::ffff:0:0', '0.0.0.0', true],
    ['64:ff9b::1.2.3.4', '64:ff9b::102:304', false],
  ];
  for (const [i, [input, want, want4]] of cases.entries()) {
    const ip = parseIP(input);
    const got = ip === null ? null : ipString(ip);
    assert.equal(got, want, `#${i}: parseIP(${JSON.stringify(input)}) = ${got}, want ${want}`);
    if (ip !== null) assert.equal(isIPv4(ip), want4, `#${i}: isIPv4(${input}) got ${!want4} want ${want4}`);
  }
});

test('parseIPZone splits zones only from IPv6 literals, as Go does', () => {
  const cases: [string, { ip: string; zone: string } | null][] = [
    ['fe80::1%eth0', { ip: 'fe80::1', zone: 'eth0' }],
    ['fe80::1%', { ip: 'fe80::1', zone: '' }],
    ['::1%lo%x', null], // the zone starts at the last '%', leaving "::1%lo" to parse
    ['%eth0', null],
    ['1.2.3.4%eth0', null], // the first '.' comes before any ':', so IPv4 rules apply
    ['1.2.3.4', { ip: '1.2.3.4', zone: '' }],
    ['localhost', null],
  ];
  for (const [i, [input, want]] of cases.entries()) {
    const p = parseIPZone(input);
    const got = p === null ? null : { ip: ipString(p.ip), zone: p.zone };
    assert.deepEqual(
      got,
      want,
      `#${i}: parseIPZone(${input}) got ${JSON.stringify(got)} want ${JSON.stringify(want)}`,
    );
  }
});

test('isDomainName matches Go', () => {
  const cases: [string, boolean][] = [
    ['localhost', true],
    ['example.com', true],
    ['example.com.', true],
    ['.', true],
    ['_srv._tcp.example.com', true],
    ['a-b.c', true],
    ['0x7f.0.0.1', true], // a letter makes it a name to Go
    ['', false],
    ['a b', false],
    ['127.1', false], // all digits and dots
    ['12345', false],
    ['-a.b', false],
    ['a-.b', false],
    ['a..b', false],
    ['bücher.de', false],
    ['a%b', false],
    [`${'a'.repeat(63)}.b`, true],
    [`${'a'.repeat(64)}.b`, false],
    [`${'a.'.repeat(126)}a`, true], // 253 bytes
    [`${'a.'.repeat(127)}`, true], // 254 bytes ending in '.'
    [`${'a.'.repeat(126)}ab`, false], // 254 bytes not ending in '.'
  ];
  for (const [i, [input, want]] of cases.entries()) {
    const got = isDomainName(input);
    assert.equal(
      got,
      want,
      `#${i}: isDomainName(${JSON.stringify(input.slice(0, 20))}) got ${got} want ${want}`,
    );
  }
});

test('isInetAtonNumber spots the forms getaddrinfo reads as IPv4', () => {
  const cases: [string, boolean][] = [
    ['0x7f.0.0.1', true],
    ['0x7f.1', true],
    ['127.1', true],
    ['2130706433', true],
    ['localhost', false],
    ['0xg', false],
    ['1.2.3.4.5', false],
  ];
  for (const [i, [input, want]] of cases.entries()) {
    const got = isInetAtonNumber(input);
    assert.equal(got, want, `#${i}: isInetAtonNumber(${input}) got ${got} want ${want}`);
  }
});
