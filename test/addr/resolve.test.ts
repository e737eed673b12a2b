/**
 * resolveTCPAddr / resolveUDPAddr without Go: Go's choice rules
 * (filterAddrList, forResolve) driven through an injected `lookup`, plus
 * candidates, lookup failures, abort and formatAddr. Only literals,
 * `localhost` and invalid names reach the real resolver, so no DNS query is
 * ever sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatAddr,
  parseTCPNetwork,
  parseUDPNetwork,
  type ResolveOptions,
  resolveTCPAddr,
  resolveUDPAddr,
} from '../../src/addr/index.js';
import { AbortError, AddrError, type ErrorCode } from '../../src/errors.js';

/** fixed returns a lookup that answers `addresses` and records the names asked. */
function fixed(addresses: string[], asked: string[] = []): NonNullable<ResolveOptions['lookup']> {
  return async (host) => {
    asked.push(host);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

test("resolveTCPAddr chooses among looked-up addresses as Go's forResolve does", async () => {
  const both = ['::1', '2001:db8::1', '192.0.2.1', '192.0.2.2'];
  const cases: [network: string, address: string, answers: string[], ip: string, family: 4 | 6][] = [
    ['tcp', 'example.test:80', both, '192.0.2.1', 4], // IPv4 preferred without '['
    ['tcp', '[example.test]:80', both, '::1', 6], // '[' anywhere flips the preference
    ['tcp4', 'example.test:80', both, '192.0.2.1', 4],
    ['tcp6', 'example.test:80', both, '::1', 6],
    ['tcp4', '[example.test]:80', both, '192.0.2.1', 4], // only tcp/udp look at '['
    ['tcp', 'example.test:80', ['::1', '2001:db8::1'], '::1', 6], // no IPv4: the first
    ['tcp', '[example.test]:80', ['192.0.2.9'], '192.0.2.9', 4], // no IPv6: the first
    ['tcp', 'example.test:80', ['::ffff:192.0.2.7', '192.0.2.1'], '192.0.2.7', 4], // mapped counts as IPv4
    ['tcp4', 'example.test:80', ['::'], '0.0.0.0', 4], // Go's lone "::" rule (issue 18806)
    ['tcp', 'example.test:80', ['::'], '0.0.0.0', 4],
    ['', 'example.test:80', ['::1', '192.0.2.1'], '192.0.2.1', 4],
  ];
  for (const [i, [network, address, answers, ip, family]] of cases.entries()) {
    const r = await resolveTCPAddr(network, address, { lookup: fixed(answers) });
    assert.deepEqual(
      [r.ip, r.family],
      [ip, family],
      `#${i}: resolveTCPAddr(${network}, ${address}) over ${answers} got ${r.ip} want ${ip}`,
    );
  }
});

test('resolveUDPAddr applies the same rules for udp networks', async () => {
  const lookup = fixed(['fe80::1%eth0', '192.0.2.1']);
  const cases: [network: string, address: string, want: string][] = [
    ['udp', 'example.test:53', '192.0.2.1:53'],
    ['udp', '[example.test]:53', '[fe80::1%eth0]:53'],
    ['udp6', 'example.test:domain', '[fe80::1%eth0]:53'],
    ['udp4', 'example.test:0', '192.0.2.1:0'],
  ];
  for (const [i, [network, address, want]] of cases.entries()) {
    const got = formatAddr(await resolveUDPAddr(network, address, { lookup }));
    assert.equal(got, want, `#${i}: resolveUDPAddr(${network}, ${address}) got ${got} want ${want}`);
  }
});

test('resolution reports the network, host and every candidate with a reason', async () => {
  const r = await resolveTCPAddr('tcp', 'example.test:http', {
    lookup: fixed(['::1', '192.0.2.1', '192.0.2.2']),
  });
  assert.equal(r.network, 'tcp');
  assert.equal(r.host, 'example.test');
  assert.equal(r.port, 80);
  assert.deepEqual(
    r.candidates.map((c) => [c.ip, c.family, c.chosen, c.reason]),
    [
      ['::1', 6, false, 'not chosen: IPv6 address (Go prefers IPv4 for network tcp without brackets)'],
      ['192.0.2.1', 4, true, 'first IPv4 address (Go prefers IPv4 for network tcp without brackets)'],
      ['192.0.2.2', 4, false, 'not chosen: an earlier address was chosen'],
    ],
  );

  const r6 = await resolveTCPAddr('tcp6', 'example.test:1', { lookup: fixed(['192.0.2.1', '::1']) });
  assert.deepEqual(
    r6.candidates.map((c) => [c.ip, c.chosen, c.reason]),
    [
      ['192.0.2.1', false, 'filtered out: tcp6 wants IPv6'],
      ['::1', true, 'only address (network tcp6 keeps only IPv6)'],
    ],
  );

  const r4 = await resolveTCPAddr('tcp4', '[::]:1');
  assert.deepEqual(
    r4.candidates.map((c) => [c.ip, c.chosen]),
    [
      ['::', false],
      ['0.0.0.0', true],
    ],
  );
  assert.match(r4.candidates[1]!.reason, /issue\/18806/);

  const lit = await resolveTCPAddr('', '[fe80::1%eth0]:80');
  assert.deepEqual(
    { network: lit.network, host: lit.host, ip: lit.ip, zone: lit.zone, family: lit.family },
    { network: 'tcp', host: 'fe80::1%eth0', ip: 'fe80::1', zone: 'eth0', family: 6 },
  );
  assert.match(lit.candidates[0]!.reason, /literal IP, no lookup/);

  const empty = await resolveUDPAddr('', ':9');
  assert.deepEqual(empty, { network: 'udp', host: '', ip: '', port: 9, zone: '', family: 0, candidates: [] });
});

test('IP literals and invalid names never reach the lookup', async () => {
  const asked: string[] = [];
  const lookup = fixed(['192.0.2.1'], asked);
  await resolveTCPAddr('tcp', '[::1]:1', { lookup });
  await resolveTCPAddr('tcp', '10.0.0.1:1', { lookup });
  const invalid = ['a b', '127.1', '12345', '1.2.3.4%eth0', '-bad.test', `${'x'.repeat(300)}`];
  for (const [i, host] of invalid.entries()) {
    await assert.rejects(resolveTCPAddr('tcp', `${host}:80`, { lookup }), (err: unknown) => {
      assert.ok(err instanceof AddrError, `#${i}: got ${String(err)}, want AddrError`);
      assert.equal(err.code, 'NETKIT_LOOKUP_FAILED', `#${i}: got ${err.code} want NETKIT_LOOKUP_FAILED`);
      assert.equal(err.message, `lookup ${host}: no such host`, `#${i}: message`);
      assert.equal(err.cause, undefined, `#${i}: no lookup, so no cause`);
      return true;
    });
  }
  assert.deepEqual(asked, [], `lookup was called for ${asked}`);

  // 0x7f.1 is a valid name to Go, so an injected lookup sees it; the default
  // lookup (getaddrinfo) would read it as 127.0.0.1, so it is refused there.
  await resolveTCPAddr('tcp', '0x7f.1:80', { lookup });
  assert.deepEqual(asked, ['0x7f.1']);
  await assert.rejects(resolveTCPAddr('tcp', '0x7f.1:80'), { code: 'NETKIT_LOOKUP_FAILED' });
});

test('localhost resolves through the hosts file with the default lookup', async () => {
  const r = await resolveTCPAddr('tcp4', 'localhost:80');
  assert.deepEqual([r.ip, r.port, r.family], ['127.0.0.1', 80, 4]);
});

test('lookup failures become NETKIT_LOOKUP_FAILED with the cause kept', async () => {
  const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND example.test'), { code: 'ENOTFOUND' });
  const again = Object.assign(new Error('getaddrinfo EAI_AGAIN example.test'), { code: 'EAI_AGAIN' });
  const plain = new Error('resolver exploded');
  const cases: [cause: Error, message: string][] = [
    [notFound, 'lookup example.test: no such host'],
    [again, 'lookup example.test: Temporary failure in name resolution'],
    [plain, 'lookup example.test: resolver exploded'],
  ];
  for (const [i, [cause, message]] of cases.entries()) {
    const lookup = async () => {
      throw cause;
    };
    await assert.rejects(resolveTCPAddr('tcp', 'example.test:80', { lookup }), (err: unknown) => {
      assert.ok(err instanceof AddrError, `#${i}: got ${String(err)}, want AddrError`);
      assert.equal(err.code, 'NETKIT_LOOKUP_FAILED', `#${i}: got ${err.code}`);
      assert.equal(err.cause, cause, `#${i}: cause`);
      assert.equal(err.message, message, `#${i}: got ${err.message} want ${message}`);
      return true;
    });
  }
  // Go reports an empty answer as "no such host".
  await assert.rejects(resolveTCPAddr('tcp', 'example.test:80', { lookup: fixed([]) }), {
    code: 'NETKIT_LOOKUP_FAILED',
    message: 'lookup example.test: no such host',
  });
});

test('errors come in Go order: network, syntax, port, then host', async () => {
  const lookup = fixed(['192.0.2.1']);
  const cases: [network: string, address: string, code: ErrorCode][] = [
    ['tcp5', '[::1', 'NETKIT_UNKNOWN_NETWORK'],
    ['udp', '::1', 'NETKIT_ADDR_SYNTAX'],
    ['tcp', 'a b:nope-not-a-service', 'NETKIT_UNKNOWN_PORT'],
    ['tcp', 'a b:65536', 'NETKIT_INVALID_PORT'],
    ['tcp', 'example.test', 'NETKIT_MISSING_PORT'],
    ['tcp6', 'example.test:80', 'NETKIT_NO_SUITABLE_ADDRESS'],
  ];
  for (const [i, [network, address, code]] of cases.entries()) {
    const resolve = network.startsWith('udp') ? resolveUDPAddr : resolveTCPAddr;
    await assert.rejects(resolve(network, address, { lookup }), (err: unknown) => {
      assert.ok(err instanceof AddrError, `#${i}: got ${String(err)}, want AddrError`);
      assert.equal(err.code, code, `#${i}: ${network} ${address} got ${err.code} want ${code}`);
      return true;
    });
  }
});

test('an aborted signal rejects with AbortError carrying the reason', async () => {
  const reason = new Error('stop');
  await assert.rejects(
    resolveTCPAddr('tcp', '127.0.0.1:80', { signal: AbortSignal.abort(reason) }),
    (err: unknown) => err instanceof AbortError && err.code === 'NETKIT_ABORTED' && err.cause === reason,
  );

  const ac = new AbortController();
  const never = () => new Promise<{ address: string; family: number }[]>(() => {});
  const pending = resolveUDPAddr('udp', 'example.test:53', { signal: ac.signal, lookup: never });
  ac.abort(reason);
  await assert.rejects(
    pending,
    (err: unknown) => err instanceof AbortError && err.code === 'NETKIT_ABORTED' && err.cause === reason,
  );
});

test("formatAddr prints Go's TCPAddr.String()", () => {
  const cases: [addr: { ip: string; port: number; zone?: string }, want: string][] = [
    [{ ip: '127.0.0.1', port: 80 }, '127.0.0.1:80'],
    [{ ip: '::1', port: 80, zone: 'lo' }, '[::1%lo]:80'],
    [{ ip: 'fe80::1', port: 0, zone: 'eth0' }, '[fe80::1%eth0]:0'],
    [{ ip: '', port: 80 }, ':80'],
    [{ ip: '', port: 80, zone: 'eth0' }, '%eth0:80'],
    [{ ip: '::ffff:10.0.0.1', port: 1 }, '10.0.0.1:1'],
    [{ ip: '0:0::1', port: 1 }, '[::1]:1'],
    [{ ip: '1.2.3.4', port: 1, zone: 'x' }, '1.2.3.4%x:1'],
  ];
  for (const [i, [addr, want]] of cases.entries()) {
    const got = formatAddr(addr);
    assert.equal(got, want, `#${i}: formatAddr(${JSON.stringify(addr)}) got ${got} want ${want}`);
  }
});

test('parseTCPNetwork / parseUDPNetwork default "" and reject other names', () => {
  assert.equal(parseTCPNetwork(''), 'tcp');
  assert.equal(parseUDPNetwork(''), 'udp');
  assert.equal(parseTCPNetwork('tcp6'), 'tcp6');
  for (const [i, bad] of ['tcp5', 'TCP', 'udp', 'ip', 'tcp4 '].entries()) {
    assert.throws(
      () => parseTCPNetwork(bad),
      (err: unknown) => err instanceof AddrError && err.code === 'NETKIT_UNKNOWN_NETWORK' && err.addr === bad,
      `#${i}: parseTCPNetwork(${bad}) should throw`,
    );
  }
  assert.throws(() => parseUDPNetwork('tcp'), {
    code: 'NETKIT_UNKNOWN_NETWORK',
    message: 'unknown network tcp',
  });
});
