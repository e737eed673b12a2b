/**
 * The lazily decoded v2 header (ProxyHeaderV2): what it shows is exactly
 * what the field-by-field decoder used to give, its getters cache, reusing
 * the input after the parse changes nothing, and everything that makes a
 * header invalid is still refused by the parse call itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { ProxyError } from '../../src/errors.js';
import { buildProxyHeaderV2, PP2_TYPE, type ProxyHeader, parseProxyHeader } from '../../src/proxy/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SIG = '0d0a0d0a000d0a515549540a';

interface Lazy extends ProxyHeader {
  toJSON(): ProxyHeader;
}

function parsed(input: Buffer): Lazy {
  const r = parseProxyHeader(input);
  assert.ok(r, `expected a complete header in ${input.toString('hex')}`);
  assert.equal(r.length, input.length);
  assert.equal(typeof (r.header as Partial<Lazy>).toJSON, 'function', 'a v2 header has toJSON()');
  return r.header as Lazy;
}

/**
 * EAGER holds, for every v2 fixture of the PROXY tests (spec examples,
 * build round trips, the reference-decoder cases and the fuzz seeds), the
 * header as the field-by-field decoder gave it before decoding became lazy:
 * keys in the order that decoder set them, absent fields left out.
 */
const EAGER: [label: string, input: string, want: ProxyHeader][] = [
  [
    'spec TCP4 with ALPN and AUTHORITY',
    '0d0a0d0a000d0a515549540a2111001f7f0000017f000002dc0401bb010002683202000b6578616d706c652e636f6d',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('6832') },
        { type: 2, value: hex('6578616d706c652e636f6d') },
      ],
      source: { address: '127.0.0.1', port: 56324 },
      destination: { address: '127.0.0.2', port: 443 },
      alpn: 'h2',
      authority: 'example.com',
    },
  ],
  [
    'spec UDP6',
    '0d0a0d0a000d0a515549540a2122002420010db800000000000000000000000100000000000000000000000000000001003514e9',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet6',
      transport: 'dgram',
      tlvs: [],
      source: { address: '2001:db8::1', port: 53 },
      destination: { address: '::1', port: 5353 },
    },
  ],
  [
    'LOCAL unspec with NOOP',
    '0d0a0d0a000d0a515549540a200000050400020000',
    {
      version: 2,
      command: 'LOCAL',
      family: 'unspec',
      transport: 'unspec',
      tlvs: [{ type: 4, value: hex('0000') }],
    },
  ],
  [
    'PROXY unspec',
    '0d0a0d0a000d0a515549540a21000000',
    { version: 2, command: 'PROXY', family: 'unspec', transport: 'unspec', tlvs: [] },
  ],
  [
    'LOCAL inet ignores addresses',
    '0d0a0d0a000d0a515549540a2011000c010203040506070800010002',
    { version: 2, command: 'LOCAL', family: 'inet', transport: 'stream', tlvs: [] },
  ],
  [
    'TCP4',
    '0d0a0d0a000d0a515549540a2111000c0a0102030a03020104d20050',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [],
      source: { address: '10.1.2.3', port: 1234 },
      destination: { address: '10.3.2.1', port: 80 },
    },
  ],
  [
    'UDP4',
    '0d0a0d0a000d0a515549540a2112000c0a0102030a030201003514e9',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'dgram',
      tlvs: [],
      source: { address: '10.1.2.3', port: 53 },
      destination: { address: '10.3.2.1', port: 5353 },
    },
  ],
  [
    'TCP6',
    '0d0a0d0a000d0a515549540a21210024fe80000000000000000000000000000120010db80000000000000000000000420001ffff',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet6',
      transport: 'stream',
      tlvs: [],
      source: { address: 'fe80::1', port: 1 },
      destination: { address: '2001:db8::42', port: 65535 },
    },
  ],
  [
    'UDP6 from an IPv4-mapped address to ::',
    '0d0a0d0a000d0a515549540a2122002400000000000000000000ffffc00002010000000000000000000000000000000000000009',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet6',
      transport: 'dgram',
      tlvs: [],
      source: { address: '::ffff:192.0.2.1', port: 0 },
      destination: { address: '::', port: 9 },
    },
  ],
  [
    'UNIX stream',
    '0d0a0d0a000d0a515549540a213100d82f746d702f696e00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002f746d702f6f757400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
    {
      version: 2,
      command: 'PROXY',
      family: 'unix',
      transport: 'stream',
      tlvs: [],
      source: { address: '/tmp/in', port: 0 },
      destination: { address: '/tmp/out', port: 0 },
    },
  ],
  [
    'UNIX dgram with an empty destination path',
    '0d0a0d0a000d0a515549540a213200d8406162737472616374000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
    {
      version: 2,
      command: 'PROXY',
      family: 'unix',
      transport: 'dgram',
      tlvs: [],
      source: { address: '@abstract', port: 0 },
      destination: { address: '', port: 0 },
    },
  ],
  [
    'LOCAL',
    '0d0a0d0a000d0a515549540a20000000',
    { version: 2, command: 'LOCAL', family: 'unspec', transport: 'unspec', tlvs: [] },
  ],
  [
    'LOCAL with an empty NOOP and CRC32C',
    '0d0a0d0a000d0a515549540a2000000a040000030004bbda84c0',
    {
      version: 2,
      command: 'LOCAL',
      family: 'unspec',
      transport: 'unspec',
      tlvs: [
        { type: 4, value: hex('') },
        { type: 3, value: hex('bbda84c0') },
      ],
      crc32c: 3151660224,
    },
  ],
  [
    'TCP4 with CRC32C',
    '0d0a0d0a000d0a515549540a211100130a0102030a03020104d200500300046ff9d399',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [{ type: 3, value: hex('6ff9d399') }],
      source: { address: '10.1.2.3', port: 1234 },
      destination: { address: '10.3.2.1', port: 80 },
      crc32c: 1878643609,
    },
  ],
  [
    'TCP6 with one TLV of every kind',
    '0d0a0d0a000d0a515549540a212100b2000000000000000000000000000000010000000000000000000000000000000201bb20fb010008687474702f312e3102000f62c3bc636865722e6578616d706c65040005000000000005000a0011223344556677889920004b0700000000210007544c5376312e33220009632e6578616d706c65230016544c535f4145535f3132385f47434d5f53484132353624000a5253412d53484132353625000752534132303438300004626c7565e00004deadbeef',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet6',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('687474702f312e31') },
        { type: 2, value: hex('62c3bc636865722e6578616d706c65') },
        { type: 4, value: hex('0000000000') },
        { type: 5, value: hex('00112233445566778899') },
        {
          type: 32,
          value: hex(
            '0700000000210007544c5376312e33220009632e6578616d706c65230016544c535f4145535f3132385f47434d5f53484132353624000a5253412d53484132353625000752534132303438',
          ),
        },
        { type: 48, value: hex('626c7565') },
        { type: 224, value: hex('deadbeef') },
      ],
      source: { address: '::1', port: 443 },
      destination: { address: '::2', port: 8443 },
      alpn: 'http/1.1',
      authority: 'bücher.example',
      uniqueId: hex('00112233445566778899'),
      ssl: {
        client: 7,
        verify: 0,
        version: 'TLSv1.3',
        cn: 'c.example',
        cipher: 'TLS_AES_128_GCM_SHA256',
        sigAlg: 'RSA-SHA256',
        keyAlg: 'RSA2048',
      },
      netns: 'blue',
    },
  ],
  [
    'TCP4 with one TLV of every kind and CRC32C',
    '0d0a0d0a000d0a515549540a211100a1010101010202020201bb20fb010008687474702f312e3102000f62c3bc636865722e6578616d706c65040005000000000005000a0011223344556677889920004b0700000000210007544c5376312e33220009632e6578616d706c65230016544c535f4145535f3132385f47434d5f53484132353624000a5253412d53484132353625000752534132303438300004626c7565e00004deadbeef03000403681cc4',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('687474702f312e31') },
        { type: 2, value: hex('62c3bc636865722e6578616d706c65') },
        { type: 4, value: hex('0000000000') },
        { type: 5, value: hex('00112233445566778899') },
        {
          type: 32,
          value: hex(
            '0700000000210007544c5376312e33220009632e6578616d706c65230016544c535f4145535f3132385f47434d5f53484132353624000a5253412d53484132353625000752534132303438',
          ),
        },
        { type: 48, value: hex('626c7565') },
        { type: 224, value: hex('deadbeef') },
        { type: 3, value: hex('03681cc4') },
      ],
      source: { address: '1.1.1.1', port: 443 },
      destination: { address: '2.2.2.2', port: 8443 },
      alpn: 'http/1.1',
      authority: 'bücher.example',
      uniqueId: hex('00112233445566778899'),
      ssl: {
        client: 7,
        verify: 0,
        version: 'TLSv1.3',
        cn: 'c.example',
        cipher: 'TLS_AES_128_GCM_SHA256',
        sigAlg: 'RSA-SHA256',
        keyAlg: 'RSA2048',
      },
      netns: 'blue',
      crc32c: 57154756,
    },
  ],
  [
    'UNIQUE_ID of exactly 128 bytes',
    '0d0a0d0a000d0a515549540a210000830500800707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707',
    {
      version: 2,
      command: 'PROXY',
      family: 'unspec',
      transport: 'unspec',
      tlvs: [
        {
          type: 5,
          value: hex(
            '0707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707',
          ),
        },
      ],
      uniqueId: hex(
        '0707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707',
      ),
    },
  ],
  [
    'TCP4',
    '0d0a0d0a000d0a515549540a2111000cc000020ac6336414c82201bb',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
    },
  ],
  [
    'TCP4 ALPN h2 + AUTHORITY (the bench header)',
    '0d0a0d0a000d0a515549540a21110027c000020ac6336414c82201bb01000268320200136261636b656e642e6578616d706c652e636f6d',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('6832') },
        { type: 2, value: hex('6261636b656e642e6578616d706c652e636f6d') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      alpn: 'h2',
      authority: 'backend.example.com',
    },
  ],
  [
    "ALPN and NETNS ''",
    '0d0a0d0a000d0a515549540a21110012c000020ac6336414c82201bb010000300000',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('') },
        { type: 48, value: hex('') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      alpn: '',
      netns: '',
    },
  ],
  [
    "ALPN and NETNS 'a'",
    '0d0a0d0a000d0a515549540a21110014c000020ac6336414c82201bb0100016130000161',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('61') },
        { type: 48, value: hex('61') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      alpn: 'a',
      netns: 'a',
    },
  ],
  [
    "ALPN and NETNS 'h2'",
    '0d0a0d0a000d0a515549540a21110016c000020ac6336414c82201bb01000268323000026832',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('6832') },
        { type: 48, value: hex('6832') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      alpn: 'h2',
      netns: 'h2',
    },
  ],
  [
    "ALPN and NETNS 'h3ÿ'",
    '0d0a0d0a000d0a515549540a21110018c000020ac6336414c82201bb0100036833ff3000036833ff',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('6833ff') },
        { type: 48, value: hex('6833ff') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      alpn: 'h3ÿ',
      netns: 'h3ÿ',
    },
  ],
  [
    "ALPN and NETNS 'http/1.1'",
    '0d0a0d0a000d0a515549540a21110022c000020ac6336414c82201bb010008687474702f312e31300008687474702f312e31',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('687474702f312e31') },
        { type: 48, value: hex('687474702f312e31') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      alpn: 'http/1.1',
      netns: 'http/1.1',
    },
  ],
  [
    "ALPN and NETNS 'spdy/3.1é'",
    '0d0a0d0a000d0a515549540a21110024c000020ac6336414c82201bb010009737064792f332e31e9300009737064792f332e31e9',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('737064792f332e31e9') },
        { type: 48, value: hex('737064792f332e31e9') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      alpn: 'spdy/3.1é',
      netns: 'spdy/3.1é',
    },
  ],
  [
    "ALPN and NETNS 'x' × 300",
    '0d0a0d0a000d0a515549540a2111026ac000020ac6336414c82201bb01012c78787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787830012c787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        {
          type: 1,
          value: hex(
            '787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
          ),
        },
        {
          type: 48,
          value: hex(
            '787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878',
          ),
        },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      alpn: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      netns:
        'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    },
  ],
  [
    'UTF-8 AUTHORITY with CRC32C',
    '0d0a0d0a000d0a515549540a21110025c000020ac6336414c82201bb02000f62c3bc636865722e6578616d706c65030004e34cdc3a',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 2, value: hex('62c3bc636865722e6578616d706c65') },
        { type: 3, value: hex('e34cdc3a') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      authority: 'bücher.example',
      crc32c: 3813465146,
    },
  ],
  [
    "AUTHORITY ''",
    '0d0a0d0a000d0a515549540a2111000fc000020ac6336414c82201bb020000',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [{ type: 2, value: hex('') }],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      authority: '',
    },
  ],
  [
    "AUTHORITY 'backend.example.cöm'",
    '0d0a0d0a000d0a515549540a21110023c000020ac6336414c82201bb0200146261636b656e642e6578616d706c652e63c3b66d',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [{ type: 2, value: hex('6261636b656e642e6578616d706c652e63c3b66d') }],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      authority: 'backend.example.cöm',
    },
  ],
  [
    "AUTHORITY 'a' × 64",
    '0d0a0d0a000d0a515549540a2111004fc000020ac6336414c82201bb02004061616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        {
          type: 2,
          value: hex(
            '61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161',
          ),
        },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      authority: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    },
  ],
  [
    "AUTHORITY 'a' × 65",
    '0d0a0d0a000d0a515549540a21110050c000020ac6336414c82201bb0200416161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        {
          type: 2,
          value: hex(
            '6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161',
          ),
        },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      authority: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    },
  ],
  [
    "AUTHORITY 'é' × 40",
    '0d0a0d0a000d0a515549540a2111005fc000020ac6336414c82201bb020050c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        {
          type: 2,
          value: hex(
            'c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9',
          ),
        },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      authority: 'éééééééééééééééééééééééééééééééééééééééé',
    },
  ],
  [
    'AUTHORITY not UTF-8',
    '0d0a0d0a000d0a515549540a21110019c000020ac6336414c82201bb02000a6162636465666768ff69',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [{ type: 2, value: hex('6162636465666768ff69') }],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      authority: 'abcdefgh�i',
    },
  ],
  [
    'all-zero and all-ones IPv4',
    '0d0a0d0a000d0a515549540a2111000c00000000ffffffff0000ffff',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [],
      source: { address: '0.0.0.0', port: 0 },
      destination: { address: '255.255.255.255', port: 65535 },
    },
  ],
  [
    'IPv4-mapped and zero-run IPv6',
    '0d0a0d0a000d0a515549540a2121002400000000000000000000ffff0a000001fe80000000000000000100000000000200010002',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet6',
      transport: 'stream',
      tlvs: [],
      source: { address: '::ffff:10.0.0.1', port: 1 },
      destination: { address: 'fe80::1:0:0:2', port: 2 },
    },
  ],
  [
    'UNIX with a 108-byte path',
    '0d0a0d0a000d0a515549540a213100d82f72756e2f612e736f636b00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979',
    {
      version: 2,
      command: 'PROXY',
      family: 'unix',
      transport: 'stream',
      tlvs: [],
      source: { address: '/run/a.sock', port: 0 },
      destination: {
        address:
          'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy',
        port: 0,
      },
    },
  ],
  [
    'LOCAL with NOOP',
    '0d0a0d0a000d0a515549540a20000006040003000000',
    {
      version: 2,
      command: 'LOCAL',
      family: 'unspec',
      transport: 'unspec',
      tlvs: [{ type: 4, value: hex('000000') }],
    },
  ],
  [
    'UNIQUE_ID, SSL, unknown and CRC32C',
    '0d0a0d0a000d0a515549540a211100cfc000020ac6336414c82201bb050080070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070720002f0700000000210007544c5376312e332200045a6fc3ab230016544c535f4145535f3132385f47434d5f534841323536e00004deadbeef0300045edaee63',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        {
          type: 5,
          value: hex(
            '0707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707',
          ),
        },
        {
          type: 32,
          value: hex(
            '0700000000210007544c5376312e332200045a6fc3ab230016544c535f4145535f3132385f47434d5f534841323536',
          ),
        },
        { type: 224, value: hex('deadbeef') },
        { type: 3, value: hex('5edaee63') },
      ],
      source: { address: '192.0.2.10', port: 51234 },
      destination: { address: '198.51.100.20', port: 443 },
      uniqueId: hex(
        '0707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707070707',
      ),
      ssl: { client: 7, verify: 0, version: 'TLSv1.3', cn: 'Zoë', cipher: 'TLS_AES_128_GCM_SHA256' },
      crc32c: 1591406179,
    },
  ],
  [
    'fuzz seed IPv6 dgram with CRC32C',
    '0d0a0d0a000d0a515549540a2122002b20010db8000000000000000000000001fe8000000000000000000000000000990001ffff03000466eb1493',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet6',
      transport: 'dgram',
      tlvs: [{ type: 3, value: hex('66eb1493') }],
      source: { address: '2001:db8::1', port: 1 },
      destination: { address: 'fe80::99', port: 65535 },
      crc32c: 1726682259,
    },
  ],
  [
    'fuzz seed every TLV kind with CRC32C',
    '0d0a0d0a000d0a515549540a21110066c0000201c6336407c73801bb010002683202000b6578616d706c652e636f6d0500100101010101010101010101010101010120001f0100000000210007544c5376312e332200016323000178240001732500016b3000026e730400030000000300040f3a81e6',
    {
      version: 2,
      command: 'PROXY',
      family: 'inet',
      transport: 'stream',
      tlvs: [
        { type: 1, value: hex('6832') },
        { type: 2, value: hex('6578616d706c652e636f6d') },
        { type: 5, value: hex('01010101010101010101010101010101') },
        { type: 32, value: hex('0100000000210007544c5376312e332200016323000178240001732500016b') },
        { type: 48, value: hex('6e73') },
        { type: 4, value: hex('000000') },
        { type: 3, value: hex('0f3a81e6') },
      ],
      source: { address: '192.0.2.1', port: 51000 },
      destination: { address: '198.51.100.7', port: 443 },
      alpn: 'h2',
      authority: 'example.com',
      uniqueId: hex('01010101010101010101010101010101'),
      ssl: { client: 1, verify: 0, version: 'TLSv1.3', cn: 'c', cipher: 'x', sigAlg: 's', keyAlg: 'k' },
      netns: 'ns',
      crc32c: 255492582,
    },
  ],
];

test('toJSON() and JSON.stringify give what the eager decoder gave, for every fixture', () => {
  for (const [label, input, want] of EAGER) {
    const h = parsed(hex(input));
    assert.deepEqual(h.toJSON(), want, label);
    // Same keys in the same order: --json output and logs do not change.
    assert.equal(JSON.stringify(h), JSON.stringify(want), label);
    assert.equal(inspect(h, { depth: 4 }), inspect(want, { depth: 4 }), label);
    for (const k of Object.keys(want) as (keyof ProxyHeader)[])
      assert.deepEqual(h[k], want[k], `${label} ${k}`);
    for (const k of [
      'source',
      'destination',
      'alpn',
      'authority',
      'uniqueId',
      'netns',
      'crc32c',
      'ssl',
    ] as const) {
      if (!(k in want)) assert.equal(h[k], undefined, `${label} ${k}`);
    }
  }
});

test('every getter returns the same value twice: decoded once, then cached', () => {
  for (const [label, input] of EAGER) {
    const h = parsed(hex(input));
    for (const k of [
      'source',
      'destination',
      'tlvs',
      'alpn',
      'authority',
      'uniqueId',
      'netns',
      'crc32c',
      'ssl',
    ] as const) {
      assert.equal(h[k], h[k], `${label} ${k}`);
    }
    assert.equal(h.toJSON().tlvs, h.tlvs, `${label}: toJSON() hands out the cached list`);
  }
});

test('reusing the input before any field is read changes nothing', () => {
  for (const [label, input, want] of EAGER) {
    const buf = hex(input);
    const r = parseProxyHeader(buf)!;
    buf.fill(0xaa);
    assert.deepEqual((r.header as Lazy).toJSON(), want, label);
  }
});

test('a v2 header has only its fixed fields as own properties; spreading loses the rest', () => {
  const h = parsed(hex(EAGER[0]![1]));
  assert.deepEqual(Object.keys(h), ['version', 'command', 'family', 'transport']);
  assert.equal({ ...h }.source, undefined);
  assert.deepEqual({ ...h.toJSON() }.source, { address: '127.0.0.1', port: 56324 });
});

test('many headers parsed in a row each keep their own bytes, short and long, odd lengths included', () => {
  // Enough headers to fill several of the shared buffers bodies are copied into, with
  // lengths that are not multiples of four, and some bodies too long to share one.
  const made: { input: Buffer; source: { address: string; port: number }; value: Buffer }[] = [];
  for (let i = 0; i < 600; i++) {
    const value = Buffer.alloc(i % 7 === 0 ? 1000 + i : i % 53, i & 0xff);
    const source = { address: `10.${i >> 8}.${i & 0xff}.${i % 7}`, port: 1000 + i };
    const input = buildProxyHeaderV2({
      source,
      destination: { address: '192.0.2.1', port: 443 },
      tlvs: [{ type: PP2_TYPE.NOOP, value }],
    });
    made.push({ input, source, value });
  }
  const headers = made.map((m) => parsed(m.input));
  for (const m of made) m.input.fill(0x55);
  for (const [i, h] of headers.entries()) {
    assert.deepEqual(h.source, made[i]!.source, `#${i} source`);
    assert.deepEqual(h.destination, { address: '192.0.2.1', port: 443 }, `#${i} destination`);
    assert.deepEqual(h.tlvs, [{ type: PP2_TYPE.NOOP, value: made[i]!.value }], `#${i} tlvs`);
  }
});

// A header is refused by the parse call, not later by a getter: nothing is read from these.
const withTlvs = (tlvs: string): Buffer => {
  const t = hex(tlvs);
  return Buffer.concat([
    hex(`${SIG} 21 11`),
    hex((12 + t.length).toString(16).padStart(4, '0')),
    hex('7f000001 7f000002 dc04 01bb'),
    t,
  ]);
};
const REFUSED: [string, Buffer, string][] = [
  ['TLV header cut short after a good ALPN', withTlvs('01 0002 6832 02 00'), 'tlv-overflow'],
  ['AUTHORITY longer than the area', withTlvs('02 0010 6162'), 'tlv-overflow'],
  ['SSL sub-TLV past the SSL TLV', withTlvs('20 0009 07 00000000 22 0005 41'), 'tlv-overflow'],
  ['SSL of 4 bytes', withTlvs('20 0004 07000000'), 'tlv-bad-length'],
  ['UNIQUE_ID of 129 bytes', withTlvs(`05 0081 ${'00'.repeat(129)}`), 'tlv-bad-length'],
  ['CRC32C of 5 bytes', withTlvs('03 0005 0000000000'), 'tlv-bad-length'],
  ['two CRC32C TLVs', withTlvs('03 0004 00000000 03 0004 00000000'), 'tlv-duplicate'],
  ['CRC32C that does not match', withTlvs('01 0002 6832 03 0004 12345678'), 'crc32c-mismatch'],
];

test('a malformed TLV area and a bad CRC32C are refused at parse time', () => {
  for (const [label, buf, reason] of REFUSED) {
    assert.throws(
      () => parseProxyHeader(buf),
      (err: unknown) => {
        assert.ok(err instanceof ProxyError, `${label}: ${String(err)}`);
        assert.equal(err.code, 'NETKIT_PROXY_HEADER');
        assert.equal(err.reason, reason, `${label}: got ${err.reason}`);
        return true;
      },
      label,
    );
  }
  // The same CRC32C fixture with the right checksum parses, so the mismatch above is the checksum's doing.
  const good = EAGER.find(([label]) => label === 'TCP4 with CRC32C')!;
  const bad = hex(good[1]);
  bad[bad.length - 1]! ^= 1;
  assert.throws(
    () => parseProxyHeader(bad),
    (e: unknown) => (e as ProxyError).reason === 'crc32c-mismatch',
  );
  assert.equal(parsed(hex(good[1])).crc32c, good[2].crc32c);
});
