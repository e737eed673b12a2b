import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpoint, endpointText, peerEndpoint, unixEndpoint } from '../../src/tcp/endpoint.js';

test('endpoint prints addresses as Go does', () => {
  const cases: [ip: string, port: number, address: string, family: 4 | 6][] = [
    ['127.0.0.1', 80, '127.0.0.1:80', 4],
    ['::1', 8080, '[::1]:8080', 6],
    ['::ffff:10.0.0.1', 443, '10.0.0.1:443', 4],
    ['fe80::1%eth0', 22, '[fe80::1%eth0]:22', 6],
    ['0.0.0.0', 0, '0.0.0.0:0', 4],
  ];
  for (const [i, [ip, port, address, family]] of cases.entries()) {
    const e = endpoint(ip, port)!;
    assert.equal(e.address, address, `#${i}: ${ip} ${port}`);
    assert.equal(e.family, family, `#${i}: ${ip} family`);
    assert.equal(endpointText(e), address, `#${i}: ${ip} text`);
  }
  assert.equal(endpoint(undefined, undefined), undefined);
});

test('peerEndpoint shows a Unix peer as unix:@ and a closed socket as nothing, never undefined:undefined', () => {
  const cases: [socket: { remoteAddress?: string; remotePort?: number }, unix: boolean, want: string][] = [
    [{ remoteAddress: '127.0.0.1', remotePort: 5000 }, false, '127.0.0.1:5000'],
    [{ remoteAddress: '::1', remotePort: 5000 }, false, '[::1]:5000'],
    [{ remoteAddress: '::ffff:192.0.2.1', remotePort: 1 }, false, '192.0.2.1:1'],
    [{}, true, 'unix:@'],
    [{}, false, ''],
  ];
  for (const [i, [socket, unix, want]] of cases.entries()) {
    assert.equal(endpointText(peerEndpoint(socket, unix)), want, `#${i}`);
  }
  assert.equal(endpointText(unixEndpoint('/run/x.sock')), 'unix:/run/x.sock');
});
