import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  checkToxic,
  parseFault,
  parseFaults,
  refuses,
  type ToxicSpec,
} from '../../src/relay/faults/index.js';

const plain = (s: ToxicSpec) => ({ ...s, attributes: { ...s.attributes } });

test('checkToxic takes Toxiproxy JSON and fills in its defaults', () => {
  const cases: [unknown, ToxicSpec][] = [
    [
      { type: 'latency' },
      {
        name: 'latency_downstream',
        type: 'latency',
        stream: 'downstream',
        toxicity: 1,
        attributes: { latency: 0, jitter: 0 },
      },
    ],
    [
      // The body toxiproxy-cli and the Go client send.
      {
        name: 'latency',
        type: 'latency',
        stream: 'upstream',
        toxicity: 1.0,
        attributes: { latency: 100, jitter: 20 },
      },
      {
        name: 'latency',
        type: 'latency',
        stream: 'upstream',
        toxicity: 1,
        attributes: { latency: 100, jitter: 20 },
      },
    ],
    [
      { type: 'bandwidth', stream: 'UpStream', attributes: { rate: 0 } },
      {
        name: 'bandwidth_upstream',
        type: 'bandwidth',
        stream: 'upstream',
        toxicity: 1,
        attributes: { rate: 0 },
      },
    ],
    [
      { name: '', type: 'slow_close', toxicity: 0.25, attributes: null },
      {
        name: 'slow_close_downstream',
        type: 'slow_close',
        stream: 'downstream',
        toxicity: 0.25,
        attributes: { delay: 0 },
      },
    ],
    [
      { type: 'slicer', attributes: { average_size: 64, size_variation: 32, delay: 10 } },
      {
        name: 'slicer_downstream',
        type: 'slicer',
        stream: 'downstream',
        toxicity: 1,
        attributes: { average_size: 64, size_variation: 32, delay: 10 },
      },
    ],
    [
      { type: 'limit_data', attributes: { bytes: 1000 } },
      {
        name: 'limit_data_downstream',
        type: 'limit_data',
        stream: 'downstream',
        toxicity: 1,
        attributes: { bytes: 1000 },
      },
    ],
    [
      { type: 'reset_peer', attributes: { timeout: 500 } },
      {
        name: 'reset_peer_downstream',
        type: 'reset_peer',
        stream: 'downstream',
        toxicity: 1,
        attributes: { timeout: 500, bytes: 0 },
      },
    ],
    [
      { type: 'timeout', stream: 'upstream', attributes: { bytes: 10 } },
      {
        name: 'timeout_upstream',
        type: 'timeout',
        stream: 'upstream',
        toxicity: 1,
        attributes: { timeout: 0, bytes: 10 },
      },
    ],
    [
      { type: 'refuse', toxicity: 0.3 },
      { name: 'refuse_downstream', type: 'refuse', stream: 'downstream', toxicity: 0.3, attributes: {} },
    ],
    [
      { type: 'noop' },
      { name: 'noop_downstream', type: 'noop', stream: 'downstream', toxicity: 1, attributes: {} },
    ],
  ];
  for (const [i, [input, want]] of cases.entries()) {
    const got = checkToxic(input);
    assert.deepEqual(plain(got), want, `#${i}: ${JSON.stringify(input)}`);
    assert.ok(Object.isFrozen(got) && Object.isFrozen(got.attributes), `#${i}: frozen`);
  }
});

test('checkToxic refuses bad toxics, naming the field and what it allows', () => {
  const cases: [unknown, string, RegExp][] = [
    [null, 'toxic', /object/],
    [[], 'toxic', /object/],
    [
      {},
      'type',
      /missing.*latency, bandwidth, slicer, limit_data, reset_peer, timeout, slow_close, noop, refuse/,
    ],
    [{ type: 'latenc' }, 'type', /"latenc" is not a toxic type; the types are latency/],
    [{ type: 'latency', stream: 'sideways' }, 'stream', /upstream or downstream/],
    [{ type: 'latency', stream: 1 }, 'stream', /upstream or downstream/],
    [{ type: 'latency', toxicity: 1.5 }, 'toxicity', /from 0 to 1/],
    [{ type: 'latency', toxicity: '1' }, 'toxicity', /from 0 to 1/],
    [{ type: 'latency', name: 7 }, 'name', /string/],
    [{ type: 'latency', attributes: [] }, 'attributes', /object/],
    [
      { type: 'latency', attributes: { latency: -1 } },
      'attributes.latency',
      /whole number of ms from 0 to 2147483647/,
    ],
    [{ type: 'latency', attributes: { latency: 1.5 } }, 'attributes.latency', /whole number/],
    [{ type: 'latency', attributes: { latency: '100' } }, 'attributes.latency', /whole number/],
    [{ type: 'latency', attributes: { delay: 1 } }, 'attributes.delay', /latency, jitter/],
    [{ type: 'bandwidth', attributes: { rate: 2 ** 31 } }, 'attributes.rate', /KB\/s from 0 to 2147483647/],
    [{ type: 'slicer', attributes: { average_size: 0 } }, 'attributes.average_size', /from 1/],
    [
      { type: 'slicer', attributes: { average_size: 4, size_variation: 4 } },
      'attributes.size_variation',
      /less than/,
    ],
    [{ type: 'refuse', attributes: { rate: 1 } }, 'attributes.rate', /takes no attributes/],
    [{ type: 'latency', attribute: {} }, 'attribute', /name, type, stream, toxicity, attributes/],
  ];
  for (const [i, [input, option, message]] of cases.entries()) {
    assert.throws(
      () => checkToxic(input),
      (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError, `#${i}: ${String(e)}`);
        assert.equal(e.code, 'NETKIT_INVALID_ARGUMENT');
        assert.equal(e.option, option, `#${i}: option`);
        assert.match(e.message, message, `#${i}`);
        return true;
      },
    );
  }
});

test('checkToxic with an existing toxic merges toxicity and the attributes given (Toxiproxy update)', () => {
  const old = checkToxic({ name: 'lag', type: 'latency', attributes: { latency: 100, jitter: 10 } });
  const cases: [unknown, Partial<ToxicSpec>][] = [
    [{ attributes: { jitter: 50 } }, { toxicity: 1, attributes: { latency: 100, jitter: 50 } }],
    [{ toxicity: 0.5 }, { toxicity: 0.5, attributes: { latency: 100, jitter: 10 } }],
    [{}, { toxicity: 1, attributes: { latency: 100, jitter: 10 } }],
    // What the relay's REST handler passes: the body with name and type filled in.
    [
      { name: 'lag', type: 'latency', attributes: { latency: 5 } },
      { attributes: { latency: 5, jitter: 10 } },
    ],
    [{ stream: 'upstream' }, { stream: 'upstream' }],
  ];
  for (const [i, [input, want]] of cases.entries()) {
    const got = plain(checkToxic(input, old));
    assert.deepEqual(got, { ...plain(old), ...want }, `#${i}`);
  }
  assert.throws(() => checkToxic({ type: 'bandwidth' }, old), { option: 'type' });
  assert.throws(() => checkToxic({ name: 'other' }, old), { option: 'name' });
  assert.throws(() => checkToxic({ attributes: { jitter: -5 } }, old), { option: 'attributes.jitter' });
  assert.throws(() => checkToxic({ attributes: { rate: 5 } }, old), { option: 'attributes.rate' });
});

test('parseFaults reads the --fault grammar', () => {
  const t = (
    type: string,
    stream: string,
    attributes: Record<string, number>,
    toxicity = 1,
    name = `${type}_${stream}`,
  ) => ({ name, type, stream, toxicity, attributes });
  const cases: [string, object[]][] = [
    ['latency=100ms', [t('latency', 'downstream', { latency: 100, jitter: 0 })]],
    ['latency=1.5', [t('latency', 'downstream', { latency: 1500, jitter: 0 })]],
    ['latency=100ms,jitter=20ms,stream=up', [t('latency', 'upstream', { latency: 100, jitter: 20 })]],
    [
      'latency=1s,stream=both',
      [
        t('latency', 'upstream', { latency: 1000, jitter: 0 }),
        t('latency', 'downstream', { latency: 1000, jitter: 0 }),
      ],
    ],
    [
      'latency=1s,stream=both,name=lag',
      [
        t('latency', 'upstream', { latency: 1000, jitter: 0 }, 1, 'lag_upstream'),
        t('latency', 'downstream', { latency: 1000, jitter: 0 }, 1, 'lag_downstream'),
      ],
    ],
    ['bandwidth=64KB', [t('bandwidth', 'downstream', { rate: 64 })]],
    ['bandwidth=64', [t('bandwidth', 'downstream', { rate: 64 })]],
    ['bandwidth=2MB/s', [t('bandwidth', 'downstream', { rate: 2000 })]],
    [
      'slicer=4,delay=10ms',
      [t('slicer', 'downstream', { average_size: 4, size_variation: 0, delay: 10_000 })],
    ],
    [
      'slicer=64,variation=16,delay=250us',
      [t('slicer', 'downstream', { average_size: 64, size_variation: 16, delay: 250 })],
    ],
    ['limit-data=1000', [t('limit_data', 'downstream', { bytes: 1000 })]],
    ['limit_data=1KiB', [t('limit_data', 'downstream', { bytes: 1024 })]],
    ['close-after=1000,stream=down', [t('limit_data', 'downstream', { bytes: 1000 })]],
    ['reset', [t('reset_peer', 'downstream', { timeout: 0, bytes: 0 })]],
    ['reset=0', [t('reset_peer', 'downstream', { timeout: 0, bytes: 0 })]],
    ['reset=5s', [t('reset_peer', 'downstream', { timeout: 5000, bytes: 0 })]],
    ['reset=5s,after=1000', [t('reset_peer', 'downstream', { timeout: 5000, bytes: 1000 })]],
    ['reset-after=1000', [t('reset_peer', 'downstream', { timeout: 0, bytes: 1000 })]],
    ['blackhole', [t('timeout', 'downstream', { timeout: 0, bytes: 0 })]],
    ['blackhole-after=1000,stream=up', [t('timeout', 'upstream', { timeout: 0, bytes: 1000 })]],
    ['timeout=5s', [t('timeout', 'downstream', { timeout: 5000, bytes: 0 })]],
    ['slow-close=2s,toxicity=0.5', [t('slow_close', 'downstream', { delay: 2000 }, 0.5)]],
    ['slow_close=250ms,toxicity=25%,name=x', [t('slow_close', 'downstream', { delay: 250 }, 0.25, 'x')]],
    ['refuse=0.3', [t('refuse', 'downstream', {}, 0.3)]],
    ['refuse', [t('refuse', 'downstream', {}, 1)]],
    ['refuse=30%,stream=both', [t('refuse', 'upstream', {}, 0.3)]],
    [' latency = 10ms , jitter = 1ms ', [t('latency', 'downstream', { latency: 10, jitter: 1 })]],
  ];
  for (const [i, [text, want]] of cases.entries()) {
    assert.deepEqual(parseFaults(text).map(plain), want, `#${i}: ${text}`);
  }
  assert.deepEqual(plain(parseFault('latency=1s')), want1());
  function want1() {
    return t('latency', 'downstream', { latency: 1000, jitter: 0 });
  }
});

test('parseFaults refuses what is not a fault, saying what is allowed', () => {
  const cases: [string, RegExp][] = [
    ['', /is not a fault; the faults are latency, bandwidth/],
    ['lag=100ms', /"lag" is not a fault/],
    ['latency', /latency needs a value, e.g. latency=100ms/],
    ['latency=fast', /latency: .*not a duration/],
    ['latency=100ms,jitter', /jitter needs a value/],
    [
      'latency=100ms,jiter=5ms',
      /"jiter" is not an option of latency; its options are jitter, stream, toxicity, name/,
    ],
    ['latency=100ms,stream=sideways', /stream must be up, down or both/],
    ['latency=100ms,toxicity=2', /toxicity: .*from 0 to 1/],
    ['latency=100ms,jitter=1ms,jitter=2ms', /jitter is given twice/],
    ['latency=99999h', /too long/],
    ['bandwidth=fast', /not a rate/],
    ['bandwidth=64KiB', /not a rate/],
    ['slicer=0', /attributes.average_size/],
    ['slicer=4,variation=4', /size_variation: must be less than average_size/],
    ['limit-data=1.5KB', /not a byte count/],
    ['blackhole=5s', /blackhole takes no value/],
    ['reset-after=10,after=5', /"after" is not an option of reset-after/],
    ['refuse=0.3,toxicity=0.5', /toxicity is given twice/],
    ['refuse=3', /fraction from 0 to 1/],
  ];
  for (const [i, [text, message]] of cases.entries()) {
    assert.throws(
      () => parseFaults(text),
      (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError, `#${i}: ${String(e)}`);
        assert.equal(e.option, '--fault');
        assert.match(e.message, message, `#${i}: ${text}`);
        return true;
      },
    );
  }
  assert.throws(() => parseFault('latency=1s,stream=both'), { option: '--fault' });
});

test('refuses rolls each refuse toxic once against its toxicity', () => {
  const specs = [checkToxic({ type: 'latency' }), checkToxic({ type: 'refuse', toxicity: 0.3 })];
  const rolls = (values: number[]) => {
    let i = 0;
    return () => values[i++] ?? assert.fail('rolled too often');
  };
  assert.equal(refuses(specs, rolls([0.29])), true);
  assert.equal(refuses(specs, rolls([0.3])), false);
  assert.equal(refuses([checkToxic({ type: 'refuse', toxicity: 0 })], rolls([0])), false);
  assert.equal(refuses([checkToxic({ type: 'refuse' })], rolls([0.999])), true);
  assert.equal(refuses([specs[0]!], rolls([])), false);
  const two = [
    checkToxic({ name: 'a', type: 'refuse', toxicity: 0.1 }),
    checkToxic({ name: 'b', type: 'refuse', toxicity: 0.5 }),
  ];
  assert.equal(refuses(two, rolls([0.2, 0.4])), true);
});
