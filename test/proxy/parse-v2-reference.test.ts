/**
 * parseV2 against a reference decoder written the plain way (every field
 * decoded with Buffer#toString and #subarray, no shortcuts), so the fast
 * paths in parse-v2.ts and tlv.ts cannot drift from the spec unnoticed; and
 * a malformed TLV area is still refused by the parse call itself.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { ProxyError } from '../../src/errors.js';
import {
  buildProxyHeaderV2,
  buildSslTlv,
  PP2_TYPE,
  type ProxyHeader,
  type ProxyV2Options,
  parseProxyHeader,
} from '../../src/proxy/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SIG = '0d0a0d0a000d0a515549540a';
const FAMILY: Record<number, [ProxyHeader['family'], ProxyHeader['transport']]> = {
  0: ['unspec', 'unspec'],
  17: ['inet', 'stream'],
  18: ['inet', 'dgram'],
  33: ['inet6', 'stream'],
  34: ['inet6', 'dgram'],
  49: ['unix', 'stream'],
  50: ['unix', 'dgram'],
};

/** v6 prints 16 bytes the way Node prints a peer: RFC 5952, IPv4-mapped as ::ffff:a.b.c.d. */
function v6(b: Buffer): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${[...b.subarray(12)].join('.')}`;
  }
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // net.SocketAddress normalises to RFC 5952 (longest zero run compressed, lower case).
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

function path(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

/** reference decodes a complete, valid v2 header into the documented ProxyHeader shape. */
function reference(buf: Buffer): ProxyHeader {
  const cmd = buf[12]! & 0x0f;
  const [family, transport] = FAMILY[buf[13]!]!;
  const total = 16 + buf.readUInt16BE(14);
  const h: ProxyHeader = { version: 2, command: cmd === 1 ? 'PROXY' : 'LOCAL', family, transport, tlvs: [] };
  const a = buf.subarray(16);
  if (cmd === 1 && family === 'inet') {
    h.source = { address: [...a.subarray(0, 4)].join('.'), port: a.readUInt16BE(8) };
    h.destination = { address: [...a.subarray(4, 8)].join('.'), port: a.readUInt16BE(10) };
  } else if (cmd === 1 && family === 'inet6') {
    h.source = { address: v6(a.subarray(0, 16)), port: a.readUInt16BE(32) };
    h.destination = { address: v6(a.subarray(16, 32)), port: a.readUInt16BE(34) };
  } else if (cmd === 1 && family === 'unix') {
    h.source = { address: path(a.subarray(0, 108)), port: 0 };
    h.destination = { address: path(a.subarray(108, 216)), port: 0 };
  }
  const addrLen = { unspec: 0, inet: 12, inet6: 36, unix: 216 }[family];
  for (let off = 16 + addrLen; off < total; ) {
    const type = buf[off]!;
    const value = Buffer.from(buf.subarray(off + 3, off + 3 + buf.readUInt16BE(off + 1)));
    off += 3 + value.length;
    h.tlvs.push({ type, value });
    if (type === PP2_TYPE.ALPN) h.alpn = value.toString('latin1');
    else if (type === PP2_TYPE.AUTHORITY) h.authority = value.toString('utf8');
    else if (type === PP2_TYPE.CRC32C) h.crc32c = value.readUInt32BE(0);
    else if (type === PP2_TYPE.UNIQUE_ID) h.uniqueId = value;
    else if (type === PP2_TYPE.NETNS) h.netns = value.toString('latin1');
    else if (type === PP2_TYPE.SSL) {
      h.ssl = { client: value[0]!, verify: value.readUInt32BE(1) };
      for (let s = 5; s < value.length; ) {
        const sub = value[s]!;
        const text = value.subarray(s + 3, s + 3 + value.readUInt16BE(s + 1));
        s += 3 + text.length;
        if (sub === PP2_TYPE.SSL_VERSION) h.ssl.version = text.toString('latin1');
        else if (sub === PP2_TYPE.SSL_CN) h.ssl.cn = text.toString('utf8');
        else if (sub === PP2_TYPE.SSL_CIPHER) h.ssl.cipher = text.toString('latin1');
        else if (sub === PP2_TYPE.SSL_SIG_ALG) h.ssl.sigAlg = text.toString('latin1');
        else if (sub === PP2_TYPE.SSL_KEY_ALG) h.ssl.keyAlg = text.toString('latin1');
      }
    }
  }
  return h;
}

const TCP4 = {
  source: { address: '192.0.2.10', port: 51234 },
  destination: { address: '198.51.100.20', port: 443 },
};
const tlv = (type: number, value: Buffer | string) => ({
  type,
  value: typeof value === 'string' ? Buffer.from(value, 'latin1') : value,
});
// ALPN and NETNS of every length around the short-text cut-offs, with bytes above 0x7f.
const LATIN1 = ['', 'a', 'h2', 'h3\xff', 'http/1.1', 'spdy/3.1\xe9', 'x'.repeat(300)];

const CASES: ProxyV2Options[] = [
  { ...TCP4 },
  { ...TCP4, tlvs: [tlv(PP2_TYPE.ALPN, 'h2'), tlv(PP2_TYPE.AUTHORITY, 'backend.example.com')] },
  ...LATIN1.map((s) => ({ ...TCP4, tlvs: [tlv(PP2_TYPE.ALPN, s), tlv(PP2_TYPE.NETNS, s)] })),
  { ...TCP4, tlvs: [tlv(PP2_TYPE.AUTHORITY, Buffer.from('bücher.example'))], crc32c: true },
  // AUTHORITY around the ASCII shortcut: empty, non-ASCII after the first eight bytes, at and past
  // the length cut-off, and bytes that are not UTF-8 at all.
  ...['', 'backend.example.cöm', 'a'.repeat(64), 'a'.repeat(65), 'é'.repeat(40)].map((s) => ({
    ...TCP4,
    tlvs: [tlv(PP2_TYPE.AUTHORITY, Buffer.from(s))],
  })),
  { ...TCP4, tlvs: [tlv(PP2_TYPE.AUTHORITY, hex('6162636465666768 ff 69'))] },
  { source: { address: '0.0.0.0', port: 0 }, destination: { address: '255.255.255.255', port: 65535 } },
  {
    transport: 'dgram',
    source: { address: '2001:db8::1', port: 53 },
    destination: { address: '::1', port: 5353 },
  },
  { source: { address: '::ffff:10.0.0.1', port: 1 }, destination: { address: 'fe80::1:0:0:2', port: 2 } },
  {
    family: 'unix',
    source: { address: '/run/a.sock', port: 0 },
    destination: { address: 'y'.repeat(108), port: 0 },
  },
  { command: 'LOCAL', tlvs: [tlv(PP2_TYPE.NOOP, Buffer.alloc(3))] },
  {},
  {
    ...TCP4,
    tlvs: [
      tlv(PP2_TYPE.UNIQUE_ID, Buffer.alloc(128, 7)),
      tlv(
        PP2_TYPE.SSL,
        buildSslTlv({ client: 7, verify: 0, version: 'TLSv1.3', cn: 'Zoë', cipher: 'TLS_AES_128_GCM_SHA256' })
          .value,
      ),
      tlv(0xe0, hex('deadbeef')),
    ],
    crc32c: true,
  },
];

test('parseV2 gives exactly what the reference decoder gives, field by field and as a whole', () => {
  for (const o of CASES) {
    const buf = buildProxyHeaderV2(o);
    const label = JSON.stringify(o);
    const got = parseProxyHeader(buf)!.header;
    const want = reference(buf);
    for (const k of Object.keys(want) as (keyof ProxyHeader)[])
      assert.deepEqual(got[k], want[k], `${label} ${k}`);
    // The header decodes lazily; toJSON() is its plain form, and JSON keeps the reference's key order.
    assert.deepEqual((got as ProxyHeader & { toJSON(): ProxyHeader }).toJSON(), want, label);
    assert.equal(JSON.stringify(got), JSON.stringify(want), label);
  }
});

test('TLV values are copies: reusing the input changes none of them', () => {
  for (const o of CASES) {
    const buf = buildProxyHeaderV2(o);
    const got = parseProxyHeader(buf)!.header;
    const want = reference(buf);
    buf.fill(0xaa);
    assert.deepEqual((got as ProxyHeader & { toJSON(): ProxyHeader }).toJSON(), want, JSON.stringify(o));
  }
});

// Each TLV area is broken in one way; the parse call itself must refuse it.
const body4 = '01020304 05060708 0001 0002';
const withTlvs = (tlvs: string): Buffer => {
  const t = hex(tlvs);
  return Buffer.concat([
    hex(`${SIG} 21 11`),
    hex((12 + t.length).toString(16).padStart(4, '0')),
    hex(body4),
    t,
  ]);
};
const BAD: [string, Buffer, string][] = [
  ['TLV header cut short', withTlvs('01 00'), 'tlv-overflow'],
  ['TLV longer than the area', withTlvs('01 0003 6832'), 'tlv-overflow'],
  ['second TLV longer than the area', withTlvs('01 0002 6832 02 00ff 00'), 'tlv-overflow'],
  ['CRC32C of 3 bytes', withTlvs('03 0003 000000'), 'tlv-bad-length'],
  ['two CRC32C TLVs', withTlvs('04 0000 03 0004 00000000 03 0004 00000000'), 'tlv-duplicate'],
  ['CRC32C that does not match', withTlvs('03 0004 00000000'), 'crc32c-mismatch'],
  ['UNIQUE_ID of 129 bytes', withTlvs(`05 0081 ${'00'.repeat(129)}`), 'tlv-bad-length'],
  ['SSL of 4 bytes', withTlvs('20 0004 01000000'), 'tlv-bad-length'],
  ['SSL sub-TLV longer than the SSL TLV', withTlvs('20 0008 01 00000000 21 0009'), 'tlv-overflow'],
];

test('a malformed TLV area is refused by the parse call, before any field is read', () => {
  for (const [label, buf, reason] of BAD) {
    assert.throws(
      () => parseProxyHeader(buf),
      (err: unknown) => {
        assert.ok(err instanceof ProxyError, `${label}: ${String(err)}`);
        assert.equal(err.reason, reason, `${label}: got ${err.reason}`);
        return true;
      },
      label,
    );
  }
});
