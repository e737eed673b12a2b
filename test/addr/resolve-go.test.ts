/**
 * Proof against Go: every input below is resolved by Go's
 * net.ResolveTCPAddr / net.ResolveUDPAddr (test/interop/resolve/main.go, run
 * with GODEBUG=netdns=go) and by netkit, and the results must agree: the
 * same ip/port/zone, or the same error text with the matching netkit code.
 *
 * Only IP literals, `localhost` (from /etc/hosts) and names that are not
 * valid domain names appear here, so neither side sends a DNS query.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { type Resolution, resolveTCPAddr, resolveUDPAddr } from '../../src/addr/index.js';
import { AddrError, type ErrorCode } from '../../src/errors.js';
import { goProgram } from '../helpers/tools.js';

const LONG_NAME = `${'a'.repeat(60)}.`.repeat(5); // 305 bytes: too long for isDomainName

/** CASES are [network, address] pairs; networks starting "udp" use ResolveUDPAddr. */
const CASES: [string, string][] = [
  // Plain literals, brackets, zones and the unspecified address.
  ['tcp', '127.0.0.1:80'],
  ['tcp', '[::1]:80'],
  ['tcp', '[fe80::1%eth0]:80'],
  ['tcp', '[::1%lo]:0'],
  ['tcp', '[fe80::1%]:80'],
  ['tcp', ':80'],
  ['tcp', ''],
  ['tcp', '[::]:80'],
  ['tcp', '[::%eth0]:80'],
  ['tcp', '[2001:DB8:0:0:1:0:0:1]:443'],
  ['tcp', '[0000000001::1]:80'],
  ['tcp', '[::1.2.3.4]:80'],
  ['tcp', '0.0.0.0:0'],
  // Ports: numeric rules of Go's parsePort, service names, range.
  ['tcp', '1.2.3.4:'],
  ['tcp', '1.2.3.4:65535'],
  ['tcp', '1.2.3.4:65536'],
  ['tcp', '1.2.3.4:99999'],
  ['tcp', '1.2.3.4:-1'],
  ['tcp', '1.2.3.4:+80'],
  ['tcp', '1.2.3.4:-0'],
  ['tcp', '1.2.3.4:+'],
  ['tcp', '1.2.3.4:4294967300'],
  ['tcp', '1.2.3.4:99999999999999999999'],
  ['tcp', '1.2.3.4:http'],
  ['tcp', '1.2.3.4:HTTP'],
  ['tcp', '1.2.3.4:Ssh'],
  ['tcp', '1.2.3.4:domain'],
  ['tcp', '1.2.3.4:nope-not-a-service'],
  ['tcp', '1.2.3.4:abcdefghijklmnopqrstuvwxyz'],
  ['tcp', '1.2.3.4:8o'],
  // Syntax errors of Go's SplitHostPort.
  ['tcp', '1.2.3.4'],
  ['tcp', '::1:80'],
  ['tcp', '[::1'],
  ['tcp', '[::1]'],
  ['tcp', '[::1]80'],
  ['tcp', '[::1]:80:90'],
  ['tcp', 'a[b:80'],
  ['tcp', 'a]b:80'],
  ['tcp', '[a]b]:80'],
  // Family filtering and Go's forResolve preference.
  ['tcp4', '[::ffff:127.0.0.1]:80'],
  ['tcp6', '[::ffff:127.0.0.1]:80'],
  ['tcp', '[::ffff:127.0.0.1]:80'],
  ['tcp6', '[::1]:80'],
  ['tcp4', '[::1]:80'],
  ['tcp6', '127.0.0.1:80'],
  ['tcp4', '[::]:80'],
  ['tcp6', '[::]:80'],
  // Host names: hosts file only, or names Go refuses without a query.
  ['tcp', 'localhost:80'],
  ['tcp4', 'localhost:http'],
  ['tcp6', 'localhost:80'],
  ['tcp', '[localhost]:80'],
  ['tcp', 'a b:80'],
  ['tcp', 'a b:nope-not-a-service'],
  ['tcp', '127.1:80'],
  ['tcp', '12345:80'],
  ['tcp', '01.2.3.4:80'],
  ['tcp', '1.2.3.4%eth0:80'],
  ['tcp', `${LONG_NAME}:80`],
  // Network names.
  ['tcp5', '1.2.3.4:80'],
  ['', ':80'],
  ['', '1.2.3.4:http'],
  ['ip', '1.2.3.4:80'],
  ['TCP', '1.2.3.4:80'],
  // UDP.
  ['udp', '127.0.0.1:53'],
  ['udp', '[::1]:domain'],
  ['udp', '1.2.3.4:DOMAIN'],
  ['udp', '1.2.3.4:http'],
  ['udp4', '1.2.3.4:53'],
  ['udp6', '1.2.3.4:53'],
  ['udp4', '[::ffff:10.0.0.1]:53'],
  ['udp', '[fe80::1%eth0]:5353'],
  ['udp6', '[::1%lo]:0'],
  ['udp', ':0'],
  ['udp', ''],
  ['udp', '1.2.3.4'],
  ['udp', '::1'],
  ['udp', '1.2.3.4:65536'],
  ['udp4', '[::]:0'],
  ['udp', 'localhost:53'],
  ['udp', 'a b:53'],
  ['udp5', 'x:1'],
];

interface GoResult {
  network: string;
  address: string;
  ok: boolean;
  ip: string;
  port: number;
  zone: string;
  err: string;
}

/** runGo feeds every case to the Go program and returns its answers in order. */
function runGo(bin: string, cases: [string, string][]): Promise<GoResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { env: { ...process.env, GODEBUG: 'netdns=go' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`go program exited ${code}: ${err}`));
      resolve(
        out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as GoResult),
      );
    });
    child.stdin.end(cases.map(([n, a]) => `${n}\t${a}\n`).join(''));
  });
}

/** codeFor maps Go's error text to the netkit code for the same failure. */
function codeFor(goErr: string): ErrorCode {
  if (goErr.startsWith('unknown network ') || goErr.endsWith(': unknown network')) {
    return 'NETKIT_UNKNOWN_NETWORK';
  }
  if (goErr.endsWith(': missing port in address')) return 'NETKIT_MISSING_PORT';
  if (/: (too many colons|missing '\]'|unexpected '\[' |unexpected '\]' )/.test(goErr)) {
    return 'NETKIT_ADDR_SYNTAX';
  }
  if (goErr.endsWith(': invalid port')) return 'NETKIT_INVALID_PORT';
  if (goErr.endsWith(': unknown port')) return 'NETKIT_UNKNOWN_PORT';
  if (goErr.endsWith(': no suitable address found')) return 'NETKIT_NO_SUITABLE_ADDRESS';
  if (goErr.startsWith('lookup ')) return 'NETKIT_LOOKUP_FAILED';
  throw new Error(`no netkit code for Go error ${JSON.stringify(goErr)}`);
}

function ours(network: string, address: string): Promise<Resolution> {
  return network.startsWith('udp') ? resolveUDPAddr(network, address) : resolveTCPAddr(network, address);
}

test('resolveTCPAddr/resolveUDPAddr agree with Go', async (t) => {
  const bin = await goProgram(t, 'test/interop/resolve');
  if (bin === undefined) return;
  assert.ok(CASES.length >= 40, `only ${CASES.length} cases`);
  const want = await runGo(bin, CASES);
  assert.equal(want.length, CASES.length, 'one Go answer per case');

  for (const [i, [network, address]] of CASES.entries()) {
    const g = want[i]!;
    assert.deepEqual([g.network, g.address], [network, address], `#${i}: Go answered another input`);
    await t.test(`#${i} ${JSON.stringify(network)} ${JSON.stringify(address.slice(0, 40))}`, async () => {
      const got = await ours(network, address).then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      if (g.ok) {
        assert.ok(got.ok, `#${i}: got error ${got.ok ? '' : String(got.e)}, want ${g.ip}:${g.port}`);
        const { ip, port, zone } = got.r;
        assert.deepEqual(
          { ip, port, zone },
          { ip: g.ip, port: g.port, zone: g.zone },
          `#${i}: got ${JSON.stringify({ ip, port, zone })} want ${JSON.stringify(g)}`,
        );
        assert.equal(got.r.family, g.ip === '' ? 0 : g.ip.includes(':') ? 6 : 4, `#${i}: family`);
      } else {
        assert.ok(!got.ok, `#${i}: got ${JSON.stringify(got.ok && got.r)}, want error ${g.err}`);
        assert.ok(got.e instanceof AddrError, `#${i}: got ${String(got.e)}, want AddrError`);
        assert.equal(got.e.message, g.err, `#${i}: got message ${got.e.message} want ${g.err}`);
        assert.equal(got.e.code, codeFor(g.err), `#${i}: got code ${got.e.code} for ${g.err}`);
      }
    });
  }
});
