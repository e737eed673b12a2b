/**
 * parseProcNetTcp against hand-written /proc/net/tcp{,6} text. The kernel
 * prints addresses as 32-bit words in host order, so these fixtures are what
 * a little-endian machine (x86, arm64) shows; on big-endian hosts they would
 * name other addresses, and the fixture tests skip there.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { endianness } from 'node:os';
import { test } from 'node:test';
import { ipv6Text, parseProcNetTcp, type TcpSocket } from '../../src/tcpstate/index.js';

const onlyLE = { skip: endianness() !== 'LE' && 'fixtures are little-endian /proc output' };

// The headers are copied from Linux 6.x, trailing spaces included for tcp.
const HEADER4 =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ';
const HEADER6 =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

// One row per state code 01..0C. Full sockets have 17 fields; TIME_WAIT and
// request sockets (06, 03, 0C) have the kernel's shorter 12-field form.
const TCP4 = `${HEADER4}
   0: 0100007F:C350 0100007F:1F90 01 000003E8:00000400 01:00000014 0000001F  1000        0 40001 2 0000000000000000 20 4 30 10 -1
   1: 0101A8C0:D431 0201A8C0:0050 02 00000001:00000000 01:00000064 00000002  1000        0 40002 2 0000000000000000 100 0 0 10 -1
   2: 0100007F:1F90 0100007F:C351 03 00000000:00000000 01:0000003C 00000000  1000        0 0 1 0000000000000000
   3: 0100007F:C352 0100007F:1F90 04 00000001:00000000 04:000000C8 00000000  1000        0 40004 2 0000000000000000 20 4 30 10 -1
   4: 0100007F:C353 0100007F:1F90 05 00000000:00000000 00:00000000 00000000  1000        0 40005 2 0000000000000000 20 4 30 10 -1
   5: 0100007F:C354 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   6: 0100007F:C355 0100007F:1F90 07 00000000:00000000 00:00000000 00000000  1000        0 40007 2 0000000000000000 20 4 30 10 -1
   7: 0100007F:1F90 0100007F:C356 08 00000000:00000001 02:000AFC80 00000000  1000        0 40008 2 0000000000000000 20 4 30 10 -1
   8: 0100007F:1F90 0100007F:C357 09 00000001:00000000 01:00000032 00000003  1000        0 40009 2 0000000000000000 20 4 30 10 -1
   9: 0100007F:1F90 00000000:0000 0A 00000000:00000080 00:00000000 00000000  1000        0 40010 1 0000000000000000 100 0 0 10 0
  10: 0100007F:C358 0100007F:1F90 0B 00000001:00000000 01:0000000A 00000001  1000        0 40011 2 0000000000000000 20 4 30 10 -1
  11: 0100007F:1F90 0100007F:C359 0C 00000000:00000000 01:00000064 00000000  1000        0 0 1 0000000000000000
`;

/** row picks the fields a test checks, so expectations stay one line each. */
function row(s: TcpSocket) {
  const { state, local, remote, sendQueue, recvQueue, timer, timerMs, retransmits, uid, inode } = s;
  return [state, local, remote, sendQueue, recvQueue, timer, timerMs, retransmits, uid, inode];
}

test('IPv4 rows: every state code, queues, timers, retransmits, uid, inode', onlyLE, () => {
  const got = parseProcNetTcp(TCP4, 4);
  // [state, local, remote, tx, rx, timer, timerMs (ticks × 10), retransmits (hex), uid, inode]
  assert.deepEqual(got.map(row), [
    ['ESTABLISHED', '127.0.0.1:50000', '127.0.0.1:8080', 1000, 1024, 'retransmit', 200, 31, 1000, 40001],
    ['SYN_SENT', '192.168.1.1:54321', '192.168.1.2:80', 1, 0, 'retransmit', 1000, 2, 1000, 40002],
    ['SYN_RECV', '127.0.0.1:8080', '127.0.0.1:50001', 0, 0, 'retransmit', 600, 0, 1000, 0],
    ['FIN_WAIT1', '127.0.0.1:50002', '127.0.0.1:8080', 1, 0, 'probe', 2000, 0, 1000, 40004],
    ['FIN_WAIT2', '127.0.0.1:50003', '127.0.0.1:8080', 0, 0, 'off', 0, 0, 1000, 40005],
    ['TIME_WAIT', '127.0.0.1:50004', '127.0.0.1:8080', 0, 0, 'time_wait', 60_000, 0, 0, 0],
    ['CLOSE', '127.0.0.1:50005', '127.0.0.1:8080', 0, 0, 'off', 0, 0, 1000, 40007],
    ['CLOSE_WAIT', '127.0.0.1:8080', '127.0.0.1:50006', 0, 1, 'keepalive', 7_200_000, 0, 1000, 40008],
    ['LAST_ACK', '127.0.0.1:8080', '127.0.0.1:50007', 1, 0, 'retransmit', 500, 3, 1000, 40009],
    ['LISTEN', '127.0.0.1:8080', '0.0.0.0:0', 0, 128, 'off', 0, 0, 1000, 40010],
    ['CLOSING', '127.0.0.1:50008', '127.0.0.1:8080', 1, 0, 'retransmit', 100, 1, 1000, 40011],
    ['NEW_SYN_RECV', '127.0.0.1:8080', '127.0.0.1:50009', 0, 0, 'retransmit', 1000, 0, 1000, 0],
  ]);
  const first = got[0]!;
  assert.equal(first.family, 4);
  assert.deepEqual(
    [first.localIp, first.localPort, first.remoteIp, first.remotePort],
    ['127.0.0.1', 50000, '127.0.0.1', 8080],
  );
  // pid and command come from read.ts, never from the table itself.
  assert.ok(got.every((s) => s.pid === undefined && s.command === undefined));
});

// ::1, ::, v4-mapped ::ffff:127.0.0.1, link-local fe80::1/fe80::2 and 2001:db8 addresses.
const TCP6 = `${HEADER6}
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 50001 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 50002 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:20FB 0000000000000000FFFF00000100007F:C351 01 00000000:000003E8 00:00000000 00000000  1000        0 50003 2 0000000000000000 20 4 30 10 -1
   3: 000080FE000000000000000001000000:0016 000080FE000000000000000002000000:9C40 01 00000024:00000000 02:00000BB8 00000000  1000        0 50004 2 0000000000000000 20 4 30 10 -1
   4: B80D01200000A3852E8A000034737003:01BB B80D0120000000000000000005000000:C000 06 00000000:00000000 03:00000FA0 00000000     0        0 0 3 0000000000000000
`;

test('IPv6 rows: loopback, any, v4-mapped, link-local and global addresses', onlyLE, () => {
  const got = parseProcNetTcp(TCP6, 6);
  assert.deepEqual(
    got.map((s) => [s.family, s.state, s.local, s.remote]),
    [
      [6, 'LISTEN', '[::1]:8080', '[::]:0'],
      [6, 'LISTEN', '[::]:443', '[::]:0'],
      [6, 'ESTABLISHED', '[::ffff:127.0.0.1]:8443', '[::ffff:127.0.0.1]:50001'],
      [6, 'ESTABLISHED', '[fe80::1]:22', '[fe80::2]:40000'],
      [6, 'TIME_WAIT', '[2001:db8:85a3::8a2e:370:7334]:443', '[2001:db8::5]:49152'],
    ],
  );
  const [, , mapped, linkLocal, tw] = got;
  assert.deepEqual([mapped!.localIp, mapped!.localPort, mapped!.recvQueue], ['::ffff:127.0.0.1', 8443, 1000]);
  assert.deepEqual(
    [linkLocal!.remoteIp, linkLocal!.sendQueue, linkLocal!.timer, linkLocal!.timerMs],
    ['fe80::2', 36, 'keepalive', 30_000],
  );
  assert.deepEqual([tw!.timer, tw!.timerMs, tw!.inode, tw!.uid], ['time_wait', 40_000, 0, 0]);
});

test('malformed and short lines are skipped, never thrown', onlyLE, () => {
  const good =
    '  99: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0';
  const bad = [
    '',
    '   garbage',
    '   1: 0100007F:1F90 00000000:0000 0A',
    '   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000',
    '   3: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0',
    '   4: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0',
    '   5: 100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0',
    '   6: 0100007F:1F90 00000000:0000 00 00000000:00000000 00:00000000 00000000 0 0 1 1 0',
    '   7: 0100007F:1F90 00000000:0000 0D 00000000:00000000 00:00000000 00000000 0 0 1 1 0',
    '   8: 0100007F:10000 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0',
    '   9: 0100007F: 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0',
    '  10: 0100007F:1F90 00000000:0000 0A 0000000000000000 00:00000000 00000000 0 0 1 1 0',
    '  11: 0100007F:1F90 00000000:0000 0A 00000000:00000000 0000000000 00000000 0 0 1 1 0',
  ];
  const text = [HEADER4, ...bad, good, ...bad, ''].join('\n');
  const got = parseProcNetTcp(text, 4);
  assert.deepEqual(
    got.map((s) => [s.local, s.inode]),
    [['127.0.0.1:8080', 777]],
  );
  assert.deepEqual(parseProcNetTcp('', 4), []);
  assert.deepEqual(parseProcNetTcp(`${HEADER4}\n`, 4), []);
  assert.deepEqual(parseProcNetTcp(`${HEADER6}\n\u0000\uffff::::\n\t\n`, 6), []);
});

test('a row whose numeric columns are not hex or decimal is skipped', {
  ...onlyLE,
}, () => {
  const text = `${HEADER4}
   0: 0100007F:1F90 00000000:0000 0A zz:yy 00:00000000 00000000  1000        0 40001 1 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  abc        0 xyz 1 0
`;
  const got = parseProcNetTcp(text, 4);
  assert.deepEqual(got, []);
});

test('an address of the other family is skipped, even one seen before', {
  ...onlyLE,
}, () => {
  // Parse both tables first so each address is known in its own family.
  parseProcNetTcp(TCP4, 4);
  parseProcNetTcp(TCP6, 6);
  const v4 = TCP4.split('\n')[10]!;
  const v6 = TCP6.split('\n')[1]!;
  assert.deepEqual(parseProcNetTcp(`${HEADER6}\n${v4}\n`, 6), []);
  assert.deepEqual(parseProcNetTcp(`${HEADER4}\n${v6}\n`, 4), []);
});

/** bytesOf turns IPv6 text (optionally with a dotted IPv4 tail) into 16 bytes. */
function bytesOf(text: string): Buffer {
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let hex = text;
  if (m) {
    const [a, b, c, d] = m[2]!.split('.').map(Number) as [number, number, number, number];
    hex = `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = hex.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return b;
}

test("ipv6Text matches Node's own IPv6 formatting", () => {
  // WHATWG URL serialisation compresses exactly as RFC 5952 says (longest run
  // of two or more zero groups, the first on a tie, lowercase, no leading zeros).
  const plain = [
    '::',
    '::1',
    '1::',
    '::2',
    '::102:304',
    'fe80::1',
    'fe80::abcd:ef01:2345:6789',
    '2001:DB8::A',
    '2001:db8:85a3::8a2e:370:7334',
    '2001:db8:0:0:1:0:0:1',
    '2001:0:0:1:0:0:0:1',
    '2001:db8:0:1:1:1:1:1',
    '0:0:1:0:0:0:0:0',
    '1:0:0:0:0:0:0:0',
    '1:2:3:4:5:6:7:8',
    'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    '0:0:0:0:0:fffe:7f00:1',
  ];
  for (const a of plain) {
    assert.equal(ipv6Text(bytesOf(a)), new URL(`http://[${a}]/`).hostname.slice(1, -1), a);
  }
  // For v4-mapped addresses RFC 5952 (section 5) keeps the dotted tail, as
  // inet_ntop and net.SocketAddress do; URL would print ::ffff:7f00:1.
  for (const a of ['::ffff:127.0.0.1', '::ffff:10.1.2.3', '::ffff:0.0.0.0', '::ffff:255.255.255.255']) {
    assert.equal(ipv6Text(bytesOf(a)), new net.SocketAddress({ address: a, family: 'ipv6' }).address, a);
  }
});
