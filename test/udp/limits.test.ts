import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatagramError } from '../../src/errors.js';
import {
  checkDatagramSize,
  MAX_UDP_PAYLOAD_V4,
  MAX_UDP_PAYLOAD_V6,
  maxPayload,
} from '../../src/udp/limits.js';

test('the limits are 65,535 minus the headers counted in each length field', () => {
  assert.equal(MAX_UDP_PAYLOAD_V4, 65_535 - 20 - 8);
  assert.equal(MAX_UDP_PAYLOAD_V6, 65_535 - 8);
  assert.equal(maxPayload(4), 65_507);
  assert.equal(maxPayload(6), 65_527);
});

test('checkDatagramSize accepts the limit and refuses one byte more with limit and size', () => {
  checkDatagramSize(65_507, 65_507);
  assert.throws(
    () => checkDatagramSize(65_508, 65_507),
    (e: unknown) =>
      e instanceof DatagramError &&
      e.code === 'NETKIT_DATAGRAM_TOO_LARGE' &&
      e.limit === 65_507 &&
      e.size === 65_508,
  );
});
