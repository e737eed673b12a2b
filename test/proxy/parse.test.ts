import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyError } from '../../src/errors.js';
import {
  buildProxyHeaderV1,
  buildProxyHeaderV2,
  buildSslTlv,
  crc32c,
  PP2_TYPE,
  type ProxyHeader,
  type ProxySsl,
  type ProxyV2Options,
  parseProxyHeader,
  signatureState,
} from '../../src/proxy/index.js';

const SIG = '0d0a0d0a000d0a515549540a';
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const APP = ascii('GET / HTTP/1.1\r\n\r\n');
const ep = (address: string, port: number) => ({ address, port });
/** ends is a source/destination pair, so each table case fits on a line. */
const ends = (a: string, pa: number, b: string, pb: number) => ({
  source: ep(a, pa),
  destination: ep(b, pb),
});

/** plain returns a header as a plain object: a v2 header decodes lazily and shows its fields through toJSON(). */
const plain = (h: ProxyHeader): ProxyHeader =>
  typeof (h as { toJSON?: unknown }).toJSON === 'function'
    ? (h as unknown as { toJSON(): ProxyHeader }).toJSON()
    : h;

function parsed(buf: Buffer): { header: ProxyHeader; length: number } {
  const r = parseProxyHeader(buf);
  assert.ok(r, `expected a complete header in ${buf.toString('hex')}`);
  return r;
}

function rejects(buf: Buffer, reason: string, label: string): void {
  assert.throws(
    () => parseProxyHeader(buf),
    (err: unknown) => {
      assert.ok(err instanceof ProxyError, `${label}: not a ProxyError: ${String(err)}`);
      assert.equal(err.code, 'NETKIT_PROXY_HEADER');
      assert.equal(err.reason, reason, `${label}: got reason ${err.reason} (${err.message}), want ${reason}`);
      return true;
    },
    label,
  );
}

// Spec section 2.1 examples, plus the worst-case lengths the 107-byte limit comes from.
const FF6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
const V1_GOLDENS: [string, Partial<ProxyHeader>][] = [
  [
    'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n',
    { family: 'inet', transport: 'stream', ...ends('192.168.0.1', 56324, '192.168.0.11', 443) },
  ],
  [
    'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n',
    { family: 'inet', source: ep('255.255.255.255', 65535) },
  ],
  [`PROXY TCP6 ${FF6} ${FF6} 65535 65535\r\n`, { family: 'inet6', source: ep(FF6, 65535) }],
  [
    'PROXY TCP6 2001:DB8::0001 ::ffff:10.0.0.1 0 1\r\n',
    { family: 'inet6', ...ends('2001:db8::1', 0, '::ffff:10.0.0.1', 1) },
  ],
  ['PROXY UNKNOWN\r\n', { family: 'unspec', transport: 'unspec', source: undefined }],
  // 107 bytes exactly: the longest line the spec allows.
  [`PROXY UNKNOWN ${FF6} ${FF6} 65535 65535\r\n`, { family: 'unspec', source: undefined }],
];

test('v1 goldens parse, and the bytes after the CRLF are left alone', () => {
  for (const [line, want] of V1_GOLDENS) {
    const { header, length } = parsed(Buffer.concat([ascii(line), APP]));
    assert.equal(length, line.length, line);
    assert.equal(header.version, 1);
    assert.equal(header.command, 'PROXY');
    assert.deepEqual(header.tlvs, []);
    for (const [k, v] of Object.entries(want))
      assert.deepEqual(header[k as keyof ProxyHeader], v, `${line} ${k}`);
  }
  assert.equal(V1_GOLDENS.at(-1)![0].length, 107);
});

// v2 written by hand from spec section 2.2: TCP over IPv4 127.0.0.1:56324 → 127.0.0.2:443,
// ALPN "h2" and AUTHORITY "example.com" (12 + 5 + 14 = 31 = 0x1f bytes after the fixed 16).
const V2_TCP4 = hex(`${SIG} 21 11 001f  7f000001 7f000002 dc04 01bb
  01 0002 6832  02 000b 6578616d706c652e636f6d`);
// UDP over IPv6 2001:db8::1:53 → ::1:5353, no TLVs (36 = 0x24).
const V2_UDP6 = hex(
  `${SIG} 21 22 0024 20010db8000000000000000000000001 00000000000000000000000000000001 0035 14e9`,
);
// LOCAL (a health check) with family unspec and a NOOP TLV of 2 bytes.
const V2_LOCAL = hex(`${SIG} 20 00 0005 04 0002 0000`);
// PROXY unspec: no addresses, no TLVs.
const V2_UNSPEC = hex(`${SIG} 21 00 0000`);

test('v2 goldens written by hand from the spec parse', () => {
  const a = parsed(Buffer.concat([V2_TCP4, APP]));
  assert.equal(a.length, 16 + 31);
  assert.deepEqual(plain(a.header), {
    version: 2,
    command: 'PROXY',
    family: 'inet',
    transport: 'stream',
    ...ends('127.0.0.1', 56324, '127.0.0.2', 443),
    tlvs: [
      { type: 1, value: ascii('h2') },
      { type: 2, value: ascii('example.com') },
    ],
    alpn: 'h2',
    authority: 'example.com',
  });
  const b = parsed(V2_UDP6).header;
  assert.equal(b.transport, 'dgram');
  assert.deepEqual(b.source, ep('2001:db8::1', 53));
  assert.deepEqual(b.destination, ep('::1', 5353));
  const c = parsed(V2_LOCAL);
  assert.equal(c.length, 21);
  assert.equal(c.header.command, 'LOCAL');
  assert.equal(c.header.source, undefined);
  assert.deepEqual(c.header.tlvs, [{ type: PP2_TYPE.NOOP, value: hex('0000') }]);
  assert.deepEqual(plain(parsed(V2_UNSPEC).header), {
    version: 2,
    command: 'PROXY',
    family: 'unspec',
    transport: 'unspec',
    tlvs: [],
  });
});

test('LOCAL ignores whatever the address block holds', () => {
  const h = parsed(hex(`${SIG} 20 11 000c 01020304 05060708 0001 0002`)).header;
  assert.equal(h.command, 'LOCAL');
  assert.equal(h.family, 'inet');
  assert.equal(h.source, undefined);
  assert.equal(h.destination, undefined);
});

test('v2 UNIX addresses are NUL-terminated paths with port 0', () => {
  const h = buildProxyHeaderV2({
    transport: 'dgram',
    family: 'unix',
    source: ep('/run/a.sock', 0),
    destination: ep('x'.repeat(108), 0),
  });
  assert.equal(h.length, 16 + 216);
  const p = parsed(h).header;
  assert.deepEqual(p.source, ep('/run/a.sock', 0));
  assert.deepEqual(p.destination, ep('x'.repeat(108), 0));
});

// RELIABILITY 20: each malformation is its own case with the reason it must give.
const V2_TCP4_BODY = '7f000001 7f000002 dc04 01bb';
const MALFORMED: [string, Buffer, string][] = [
  ['v1 of 107 bytes without CRLF', ascii(`PROXY UNKNOWN ${'x'.repeat(93)}`), 'v1-too-long'],
  ['v1 over 107 bytes, CRLF too late', ascii(`PROXY UNKNOWN ${'x'.repeat(120)}\r\n`), 'v1-too-long'],
  ['v1 bare LF', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'), 'v1-bad-line'],
  ['v1 CR without LF', ascii('PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n'), 'v1-bad-line'],
  ['v1 protocol TCP5', ascii('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'), 'v1-bad-protocol'],
  ['v1 lower-case tcp4', ascii('PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'), 'v1-bad-protocol'],
  ['v1 missing port', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'), 'v1-bad-format'],
  ['v1 double space', ascii('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n'), 'v1-bad-format'],
  ['v1 trailing space', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'), 'v1-bad-format'],
  ['v1 octet 256', ascii('PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n'), 'bad-address'],
  ['v1 leading zero octet', ascii('PROXY TCP4 010.2.3.4 5.6.7.8 1 2\r\n'), 'bad-address'],
  ['v1 three octets', ascii('PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n'), 'bad-address'],
  ['v1 host name', ascii('PROXY TCP4 localhost 5.6.7.8 1 2\r\n'), 'bad-address'],
  ['v1 bad IPv6', ascii('PROXY TCP6 1:::2 ::1 1 2\r\n'), 'bad-address'],
  ['v1 IPv6 with zone', ascii('PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'), 'bad-address'],
  ['v1 port 65536', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'), 'bad-port'],
  ['v1 port +1', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n'), 'bad-port'],
  ['v1 port -1', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n'), 'bad-port'],
  ['v1 port 080', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n'), 'bad-port'],
  ['v1 port 0x10', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 0x10\r\n'), 'bad-port'],
  ['v1 empty port', ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n'), 'bad-port'],
  ['v1 TCP4 with IPv6', ascii('PROXY TCP4 ::1 ::1 1 2\r\n'), 'family-mismatch'],
  ['v1 TCP6 with IPv4', ascii('PROXY TCP6 ::1 1.2.3.4 1 2\r\n'), 'family-mismatch'],
  ['not a PROXY header', ascii('GET / HTTP/1.1\r\n'), 'bad-signature'],
  ['PROXY without its space', ascii('PROXY\r\n'), 'bad-signature'],
  ['v2 signature byte 11 wrong', hex('0d0a0d0a000d0a515549540b 21 11 000c'), 'bad-signature'],
  ['v2 version 1', hex(`${SIG} 11 11 000c ${V2_TCP4_BODY}`), 'v2-version'],
  ['v2 version 3', hex(`${SIG} 31 11 000c ${V2_TCP4_BODY}`), 'v2-version'],
  ['v2 command 2', hex(`${SIG} 22 11 000c ${V2_TCP4_BODY}`), 'v2-command'],
  ['v2 family 4', hex(`${SIG} 21 41 000c ${V2_TCP4_BODY}`), 'v2-family'],
  ['v2 transport 3', hex(`${SIG} 21 13 000c ${V2_TCP4_BODY}`), 'v2-family'],
  ['v2 inet with unspec transport', hex(`${SIG} 21 10 000c ${V2_TCP4_BODY}`), 'v2-family'],
  ['v2 inet address block of 11', hex(`${SIG} 21 11 000b 7f000001 7f000002 dc04 01`), 'address-block-short'],
  ['v2 inet6 address block of 12', hex(`${SIG} 21 21 000c ${V2_TCP4_BODY}`), 'address-block-short'],
  ['v2 unix address block of 215', hex(`${SIG} 21 31 00d7 ${'00'.repeat(215)}`), 'address-block-short'],
  ['v2 short block, decided before the body', hex(`${SIG} 21 21 000c`), 'address-block-short'],
  ['v2 TLV running past the end', hex(`${SIG} 21 11 0010 ${V2_TCP4_BODY} 01 0002 68`), 'tlv-overflow'],
  ['v2 TLV length 65535', hex(`${SIG} 21 11 0011 ${V2_TCP4_BODY} 01 ffff 6832`), 'tlv-overflow'],
  ['v2 TLV header cut short', hex(`${SIG} 21 11 000e ${V2_TCP4_BODY} 01 00`), 'tlv-overflow'],
  [
    'v2 SSL sub-TLV past the SSL TLV',
    hex(`${SIG} 21 00 000b 20 0008 01 00000000 21 0005 41`),
    'tlv-overflow',
  ],
  ['v2 SSL TLV under 5 bytes', hex(`${SIG} 21 00 0007 20 0004 01 000000`), 'tlv-bad-length'],
  ['v2 CRC32C of 3 bytes', hex(`${SIG} 21 00 0006 03 0003 000000`), 'tlv-bad-length'],
  ['v2 CRC32C wrong', hex(`${SIG} 21 00 0007 03 0004 00000000`), 'crc32c-mismatch'],
  ['v2 UNIQUE_ID of 129 bytes', hex(`${SIG} 21 00 0084 05 0081 ${'61'.repeat(129)}`), 'tlv-bad-length'],
];

test('every malformation is a ProxyError with its reason', () => {
  for (const [label, buf, reason] of MALFORMED) rejects(buf, reason, label);
});

test('errors are decided early: a wrong byte needs no more input', () => {
  rejects(ascii('X'), 'bad-signature', 'first byte');
  rejects(ascii('PROXZ'), 'bad-signature', 'fifth byte');
  rejects(hex('0d0a0d0a01'), 'bad-signature', 'v2 fifth byte');
  rejects(hex(`${SIG} 10`), 'v2-version', 'version nibble alone');
  rejects(hex(`${SIG} 21 ff`), 'v2-family', 'family byte alone');
  rejects(ascii(`PROXY TCP4 ${'1'.repeat(96)}`), 'v1-too-long', 'exactly 107 bytes');
  assert.equal(
    parseProxyHeader(ascii(`PROXY TCP4 ${'1'.repeat(95)}`)),
    null,
    '106 bytes may still end in CRLF',
  );
  assert.equal(parseProxyHeader(ascii(`PROXY UNKNOWN ${'x'.repeat(91)}\r`)), null, 'CR at byte 106');
});

test('a UNIQUE_ID of exactly 128 bytes is accepted', () => {
  const id = Buffer.alloc(128, 7);
  const h = parsed(buildProxyHeaderV2({ tlvs: [{ type: PP2_TYPE.UNIQUE_ID, value: id }] })).header;
  assert.deepEqual(h.uniqueId, id);
});

test('signatureState decides as soon as a byte rules both versions out', () => {
  // Inputs as hex, by the state they must give.
  const CASES: Record<string, string[]> = {
    partial: ['', '50', '50524f5859', '0d', '0d0a0d0a000d0a51554954'],
    v1: ['50524f585920', '50524f5859205443503434'],
    v2: [SIG, `${SIG}21`],
    none: ['47', '50524f5858', '0d0a0d0a0a', '0d0a0d0a474554'],
  };
  for (const [want, inputs] of Object.entries(CASES)) {
    for (const h of inputs) assert.equal(signatureState(hex(h)), want, `#${h}`);
  }
});

const SSL: ProxySsl = {
  client: 7,
  verify: 0,
  version: 'TLSv1.3',
  cn: 'c.example',
  cipher: 'TLS_AES_128_GCM_SHA256',
  sigAlg: 'RSA-SHA256',
  keyAlg: 'RSA2048',
};
/** CRC_TLV_SET has one TLV of every kind the spec defines, plus an unknown one. */
const CRC_TLV_SET: ProxyV2Options['tlvs'] = [
  { type: PP2_TYPE.ALPN, value: ascii('http/1.1') },
  { type: PP2_TYPE.AUTHORITY, value: Buffer.from('bücher.example', 'utf8') },
  { type: PP2_TYPE.NOOP, value: Buffer.alloc(5) },
  { type: PP2_TYPE.UNIQUE_ID, value: hex('00112233445566778899') },
  buildSslTlv(SSL),
  { type: PP2_TYPE.NETNS, value: ascii('blue') },
  { type: 0xe0, value: hex('deadbeef') },
];

const V2_OPTIONS: ProxyV2Options[] = [
  { ...ends('10.1.2.3', 1234, '10.3.2.1', 80) },
  { transport: 'dgram', ...ends('10.1.2.3', 53, '10.3.2.1', 5353) },
  { ...ends('fe80::1', 1, '2001:db8::42', 65535) },
  { transport: 'dgram', ...ends('::ffff:192.0.2.1', 0, '::', 9) },
  { family: 'unix', ...ends('/tmp/in', 0, '/tmp/out', 0) },
  { family: 'unix', transport: 'dgram', ...ends('@abstract', 0, '', 0) },
  {},
  { command: 'LOCAL' },
  { command: 'LOCAL', tlvs: [{ type: PP2_TYPE.NOOP, value: Buffer.alloc(0) }], crc32c: true },
  { ...ends('10.1.2.3', 1234, '10.3.2.1', 80), crc32c: true },
  { ...ends('::1', 443, '::2', 8443), tlvs: CRC_TLV_SET },
  { ...ends('1.1.1.1', 443, '2.2.2.2', 8443), tlvs: CRC_TLV_SET, crc32c: true },
];

const VALID: Buffer[] = [
  ...V1_GOLDENS.map(([line]) => ascii(line)),
  V2_TCP4,
  V2_UDP6,
  V2_LOCAL,
  V2_UNSPEC,
  ...V2_OPTIONS.map((o) => buildProxyHeaderV2(o)),
];

test('every valid header fed one byte at a time is null until complete, then exact', () => {
  for (const h of VALID) {
    const stream = Buffer.concat([h, APP]);
    for (let n = 0; n < h.length; n++) {
      assert.equal(parseProxyHeader(stream.subarray(0, n)), null, `${h.toString('hex')} at ${n}`);
    }
    const whole = parsed(h);
    for (let n = h.length; n <= stream.length; n++) {
      const r = parsed(stream.subarray(0, n));
      assert.equal(r.length, h.length);
      assert.deepEqual(plain(r.header), plain(whole.header));
    }
    assert.deepEqual(stream.subarray(whole.length), APP);
  }
});

test('parsed TLV values do not change when the input buffer is reused', () => {
  const buf = Buffer.from(V2_TCP4);
  const { header } = parsed(buf);
  buf.fill(0);
  assert.equal(header.tlvs[0]!.value.toString(), 'h2');
});

test('build → parse round trips for every family, transport and TLV kind', () => {
  for (const o of V2_OPTIONS) {
    const h = parsed(buildProxyHeaderV2(o)).header;
    const label = JSON.stringify(o);
    assert.equal(h.version, 2);
    assert.equal(h.command, o.command ?? 'PROXY', label);
    if (h.command === 'PROXY') {
      assert.deepEqual(h.source, o.source, label);
      assert.deepEqual(h.destination, o.destination, label);
    }
    if (o.transport) assert.equal(h.transport, o.transport, label);
    const sent = o.tlvs ?? [];
    assert.deepEqual(h.tlvs.slice(0, sent.length), sent, label);
    assert.equal(h.tlvs.length, sent.length + (o.crc32c ? 1 : 0), label);
    assert.equal(h.crc32c !== undefined, o.crc32c === true, label);
  }
  const full = parsed(buildProxyHeaderV2(V2_OPTIONS.at(-1)!)).header;
  assert.equal(full.alpn, 'http/1.1');
  assert.equal(full.authority, 'bücher.example');
  assert.deepEqual(full.uniqueId, hex('00112233445566778899'));
  assert.equal(full.netns, 'blue');
  assert.deepEqual(full.ssl, SSL);
  assert.deepEqual(full.tlvs.at(-2), { type: 0xe0, value: hex('deadbeef') });

  const V1: Parameters<typeof buildProxyHeaderV1>[0][] = [
    { family: 'inet', ...ends('1.2.3.4', 0, '5.6.7.8', 65535) },
    { family: 'inet6', ...ends('::1', 22, 'fe80::2', 2222) },
    { family: 'unspec' },
  ];
  for (const o of V1) {
    const h = parsed(buildProxyHeaderV1(o)).header;
    assert.equal(h.family, o.family);
    assert.deepEqual(h.source, o.source);
    assert.deepEqual(h.destination, o.destination);
  }
});

test('the builders refuse what they cannot encode', () => {
  const bad: (() => unknown)[] = [
    () => buildProxyHeaderV1({ family: 'inet', ...ends('::1', 1, '1.2.3.4', 1) }),
    () => buildProxyHeaderV1({ family: 'inet', ...ends('1.2.3.4', 70000, '1.2.3.4', 1) }),
    () => buildProxyHeaderV2({ family: 'inet' }),
    () => buildProxyHeaderV2({ family: 'unix', source: ep('x'.repeat(109), 0), destination: ep('', 0) }),
    () => buildProxyHeaderV2({ tlvs: [{ type: 1, value: Buffer.alloc(70000) }] }),
    () => buildProxyHeaderV2({ tlvs: [{ type: 3, value: Buffer.alloc(4) }], crc32c: true }),
    () => buildProxyHeaderV2({ family: 'unspec', transport: 'stream' }),
  ];
  for (const address of ['01.2.3.4', '1.2.3.4.5', '256.1.1.1', '1.2.3', '1.2.3.', '1..2.3', ' 1.2.3.4', '']) {
    bad.push(() =>
      buildProxyHeaderV2({ family: 'inet', source: { address, port: 1 }, destination: ep('1.2.3.4', 1) }),
    );
  }
  for (const [i, f] of bad.entries()) {
    assert.throws(f, (e: unknown) => (e as { code?: string }).code === 'NETKIT_INVALID_ARGUMENT', `#${i}`);
  }
});

test('CRC32C: known answer, and any flipped bit of a protected header is caught', () => {
  assert.equal(crc32c('123456789'), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  const h = buildProxyHeaderV2(V2_OPTIONS[9]!);
  const { header } = parsed(h);
  // Independent check: zero the checksum field by hand and sum the whole header.
  const copy = Buffer.from(h);
  copy.fill(0, copy.length - 4);
  assert.equal(header.crc32c, crc32c(copy));
  // Flip bits in the address block and TLVs (bytes 16+); earlier bytes change the framing itself.
  // The CRC TLV's own type byte is skipped: changing it turns the checksum into an unknown TLV.
  for (let i = 16; i < h.length; i++) {
    if (i === h.length - 7) continue;
    const bad = Buffer.from(h);
    bad[i]! ^= 0x10;
    assert.throws(() => parseProxyHeader(bad), ProxyError, `byte ${i}`);
  }
});
