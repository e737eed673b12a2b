import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import {
  checkToxic,
  faultFlow,
  MAX_QUEUED_BYTES,
  SYNC_POLL_MS,
  type ToxicSource,
  type ToxicSpec,
} from '../../src/relay/faults/index.js';
import type { ConnControl, Flow, Stream } from '../../src/relay/types.js';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
afterEach(() => mock.timers.reset());

/** Recorder is the next Flow: it logs what reaches it and when, and can refuse more (write() false). */
class Recorder implements Flow {
  log: string[] = [];
  full = false;
  destroyed = false;
  ondrain: (() => void) | undefined;
  write(chunk: Buffer): boolean {
    this.log.push(`${Date.now()} ${chunk.toString()}`);
    return !this.full;
  }
  end(): void {
    this.log.push(`${Date.now()} FIN`);
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** data is everything written, joined. */
  get data(): string {
    return this.log
      .filter((l) => !l.endsWith(' FIN'))
      .map((l) => l.slice(l.indexOf(' ') + 1))
      .join('');
  }
  /** drain runs ondrain, as a socket's 'drain'; with `refill` the next write() says full again. */
  drain(refill = false): void {
    this.full = refill;
    this.ondrain?.();
  }
}

/** Toxics is a live ToxicSource; `subscribe` only when asked, as a source may lack it. */
class Toxics implements ToxicSource {
  specs: ToxicSpec[] = [];
  listeners = new Set<() => void>();
  subscribe?: (onchange: () => void) => () => void;
  constructor(inputs: unknown[] = [], watchable = false) {
    this.specs = inputs.map((i) => checkToxic(i));
    if (watchable) {
      this.subscribe = (f) => {
        this.listeners.add(f);
        return () => this.listeners.delete(f);
      };
    }
  }
  list(stream: Stream): readonly ToxicSpec[] {
    return this.specs.filter((s) => s.stream === stream);
  }
  add(input: unknown): void {
    this.specs = [...this.specs, checkToxic(input)];
    for (const f of this.listeners) f();
  }
  update(name: string, input: unknown): void {
    this.specs = this.specs.map((s) => (s.name === name ? checkToxic(input, s) : s));
    for (const f of this.listeners) f();
  }
  remove(name: string): void {
    this.specs = this.specs.filter((s) => s.name !== name);
    for (const f of this.listeners) f();
  }
}

function setup(inputs: unknown[], opts: { random?: number[]; watchable?: boolean; stream?: Stream } = {}) {
  const next = new Recorder();
  const toxics = new Toxics(inputs, opts.watchable);
  const ends: string[] = [];
  const control: ConnControl = {
    reset: (reason) => ends.push(`${Date.now()} RST ${reason}`),
    close: (reason) => ends.push(`${Date.now()} CLOSE ${reason}`),
  };
  const rolls = [...(opts.random ?? [])];
  const random = () => rolls.shift() ?? 0;
  const flow = faultFlow(opts.stream ?? 'downstream', toxics, next, control, { random });
  let drains = 0;
  flow.ondrain = () => drains++;
  return { flow, next, toxics, ends, drains: () => drains };
}

/**
 * tick advances the clock a millisecond at a time: mock.timers moves Date
 * to the end of a tick before it runs the timers due within it, so one
 * long tick would show a timer set by another one the wrong time.
 */
const tick = (ms: number) => {
  for (let i = 0; i < ms; i++) mock.timers.tick(1);
};

test('with no toxic that applies, a flow passes chunks and the FIN on at once', () => {
  const { flow, next } = setup([{ type: 'latency', stream: 'upstream', attributes: { latency: 100 } }]);
  assert.equal(flow.write(Buffer.from('ab')), true);
  flow.write(Buffer.from('cd'));
  flow.end();
  assert.deepEqual(next.log, ['0 ab', '0 cd', '0 FIN']);
});

test('latency holds each chunk latency ms after it arrives; the FIN follows the last chunk', () => {
  const { flow, next } = setup([{ type: 'latency', attributes: { latency: 100 } }]);
  flow.write(Buffer.from('a'));
  tick(10);
  flow.write(Buffer.from('b'));
  flow.end();
  tick(89);
  assert.deepEqual(next.log, []);
  tick(1);
  assert.deepEqual(next.log, ['100 a']);
  tick(10);
  assert.deepEqual(next.log, ['100 a', '110 b', '110 FIN']);
});

test('latency with jitter draws ±jitter per chunk and never reorders', () => {
  // Toxiproxy's draw: latency + floor(r * 2 * jitter) - jitter. The toxicity roll comes first.
  const { flow, next } = setup([{ type: 'latency', attributes: { latency: 100, jitter: 50 } }], {
    random: [0, 0.99, 0, 0.5],
  });
  flow.write(Buffer.from('a')); // 100 + 49 → due at 149
  tick(10);
  flow.write(Buffer.from('b')); // 100 - 50 → due at 60, but not before a
  tick(10);
  flow.write(Buffer.from('c')); // 100 + 0 → due at 120, still behind a
  tick(200);
  assert.deepEqual(next.log, ['149 a', '149 b', '149 c']);
});

test('bandwidth sends at rate KB/s, a large chunk in 100 ms pieces', () => {
  const { flow, next } = setup([{ type: 'bandwidth', attributes: { rate: 1 } }]);
  flow.write(Buffer.alloc(250, 'x'));
  tick(99);
  assert.equal(next.log.length, 0);
  tick(1);
  assert.equal(next.log.length, 1);
  tick(150);
  assert.deepEqual(
    next.log.map((l) => `${l.split(' ')[0]} ${l.length - l.indexOf(' ') - 1}`),
    ['100 100', '200 100', '250 50'],
  );
  flow.write(Buffer.alloc(50, 'y'));
  tick(49);
  assert.equal(next.log.length, 3);
  tick(1);
  assert.equal(next.log[3], `300 ${'y'.repeat(50)}`);
});

test('slicer cuts chunks into average_size pieces, delay µs apart', () => {
  const { flow, next } = setup([{ type: 'slicer', attributes: { average_size: 4, delay: 10_000 } }]);
  flow.write(Buffer.from('abcdefghijklmnop'));
  flow.end();
  tick(100);
  assert.deepEqual(next.log, ['0 abcd', '10 efgh', '20 ijkl', '30 mnop', '40 FIN']);
});

test('slicer with size_variation varies the pieces but delivers every byte in order, each on its own turn', async () => {
  const rolls = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 100) / 100);
  const { flow, next } = setup([{ type: 'slicer', attributes: { average_size: 8, size_variation: 4 } }], {
    random: [0, ...rolls],
  });
  const text = 'The quick brown fox jumps over the lazy dog, again and again.';
  flow.write(Buffer.from(text));
  // One piece now, the next on the next turn of the event loop: never merged into one write.
  assert.ok(next.data.length < text.length, 'all the pieces left in one turn');
  for (let i = 0; i < 100 && next.data !== text; i++) await new Promise((r) => setImmediate(r));
  assert.equal(next.data, text);
  const sizes = next.log.map((l) => l.length - 2);
  assert.ok(sizes.length > 4, `sliced into ${sizes}`);
  assert.ok(
    sizes.every((n) => n >= 1 && n <= 12),
    `sizes ${sizes}`,
  );
});

test('limit_data passes exactly N bytes, then closes the connection; the rest is dropped', () => {
  const { flow, next, ends } = setup([{ type: 'limit_data', attributes: { bytes: 10 } }]);
  assert.equal(flow.write(Buffer.from('012345')), true);
  assert.deepEqual(ends, []);
  flow.write(Buffer.from('6789AB'));
  assert.equal(next.data, '0123456789');
  assert.equal(ends.length, 1);
  assert.match(ends[0]!, /^0 CLOSE fault limit_data_downstream: limit_data closed downstream after 10 bytes/);
  flow.write(Buffer.from('more'));
  flow.end();
  assert.equal(next.data, '0123456789');
  assert.ok(!next.log.includes('0 FIN'));
});

test('limit_data closes only once the N bytes are written (it waits for drain)', () => {
  const { flow, next, ends } = setup([{ type: 'limit_data', attributes: { bytes: 4 } }]);
  next.full = true;
  flow.write(Buffer.from('abcdef'));
  assert.equal(next.data, 'abcd');
  assert.deepEqual(ends, []);
  next.drain();
  assert.equal(ends.length, 1);
});

test('reset_peer resets at the first data, dropping it (Toxiproxy), or timeout ms later', () => {
  {
    const { flow, next, ends } = setup([{ type: 'reset_peer' }]);
    flow.write(Buffer.from('hello'));
    assert.equal(next.data, '');
    assert.match(
      ends.join(),
      /^0 RST fault reset_peer_downstream: reset_peer reset downstream after 0 bytes$/,
    );
  }
  {
    const { flow, next, ends } = setup([{ type: 'reset_peer', attributes: { timeout: 500 } }]);
    tick(100);
    assert.deepEqual(ends, []);
    flow.write(Buffer.from('hello'));
    tick(499);
    flow.write(Buffer.from('world'));
    assert.deepEqual(ends, []);
    tick(1);
    assert.equal(next.data, '');
    assert.equal(ends.length, 1);
    assert.match(ends[0]!, /^600 RST/);
  }
});

test('reset_peer with bytes (netkit) lets N bytes through, then resets', () => {
  const { flow, next, ends } = setup([{ type: 'reset_peer', attributes: { bytes: 5, timeout: 1000 } }]);
  flow.write(Buffer.from('abc'));
  flow.write(Buffer.from('defg'));
  assert.equal(next.data, 'abcde');
  tick(999);
  assert.deepEqual(ends, []);
  tick(1);
  assert.match(ends.join(), /^1000 RST .*after 5 bytes$/);
});

test('timeout holds all data and closes timeout ms after it starts; data never arrives', () => {
  const { flow, next, ends, drains } = setup([{ type: 'timeout', attributes: { timeout: 500 } }]);
  tick(100);
  flow.write(Buffer.from('held'));
  flow.end();
  tick(399);
  assert.deepEqual([next.log, ends], [[], []]);
  tick(1);
  assert.deepEqual(next.log, []);
  assert.match(ends.join(), /^500 CLOSE fault timeout_downstream: timeout closed downstream/);
  assert.equal(drains(), 0);
});

test('timeout with bytes (netkit) black-holes after the Nth byte; removing it releases what it held', () => {
  const { flow, next, toxics, ends } = setup(
    [{ name: 'hole', type: 'timeout', stream: 'upstream', attributes: { bytes: 3 } }],
    { stream: 'upstream' },
  );
  flow.write(Buffer.from('abcdef'));
  flow.write(Buffer.from('gh'));
  tick(10_000);
  assert.equal(next.data, 'abc');
  toxics.remove('hole');
  // No subscribe on this source: the flow notices at its next poll.
  tick(SYNC_POLL_MS);
  assert.equal(next.data, 'abcdefgh');
  flow.write(Buffer.from('ij'));
  assert.equal(next.data, 'abcdefghij');
  assert.deepEqual(ends, []);
});

test('a removed timeout does not close the connection later', () => {
  const { flow, next, toxics, ends } = setup([{ name: 't', type: 'timeout', attributes: { timeout: 500 } }], {
    watchable: true,
  });
  flow.write(Buffer.from('x'));
  tick(200);
  toxics.remove('t');
  assert.equal(next.log.join(), '200 x');
  tick(1000);
  assert.deepEqual(ends, []);
});

test('slow_close passes data at once and the FIN delay ms later', () => {
  const { flow, next } = setup([{ type: 'slow_close', attributes: { delay: 2000 } }]);
  flow.write(Buffer.from('bye'));
  flow.end();
  assert.deepEqual(next.log, ['0 bye']);
  tick(1999);
  assert.deepEqual(next.log, ['0 bye']);
  tick(1);
  assert.deepEqual(next.log, ['0 bye', '2000 FIN']);
});

test('toxicity is rolled once per connection per toxic; toxicity 0 never applies', () => {
  {
    const { flow, next } = setup([{ type: 'latency', toxicity: 0, attributes: { latency: 100 } }], {
      random: [0],
    });
    flow.write(Buffer.from('a'));
    assert.deepEqual(next.log, ['0 a']);
  }
  {
    let rolls = 0;
    const next = new Recorder();
    const toxics = new Toxics([{ type: 'latency', toxicity: 0.5, attributes: { latency: 100 } }]);
    const control = { reset: () => {}, close: () => {} };
    const flow = faultFlow('downstream', toxics, next, control, {
      random: () => {
        rolls++;
        return 0.4;
      },
    });
    for (const c of 'abc') flow.write(Buffer.from(c));
    assert.equal(rolls, 1);
    assert.deepEqual(next.log, []);
    tick(100);
    assert.equal(next.data, 'abc');
  }
  {
    const { flow, next } = setup([{ type: 'latency', toxicity: 0.5, attributes: { latency: 100 } }], {
      random: [0.5],
    });
    flow.write(Buffer.from('a'));
    assert.deepEqual(next.log, [`${Date.now()} a`]);
  }
});

test('toxics added, changed and removed at runtime reach an open connection, in order', () => {
  const { flow, next, toxics } = setup([]);
  flow.write(Buffer.from('a'));
  toxics.add({ name: 'lag', type: 'latency', attributes: { latency: 100 } });
  flow.write(Buffer.from('b'));
  tick(50);
  toxics.update('lag', { attributes: { latency: 10 } });
  flow.write(Buffer.from('c')); // due at 60, but after b
  tick(50);
  assert.deepEqual(next.log, ['0 a', '100 b', '100 c']);
  flow.write(Buffer.from('d')); // due at 110
  tick(5);
  toxics.remove('lag');
  flow.write(Buffer.from('e'));
  // Removing the toxic lets what it held go on at once, ahead of what comes after.
  assert.deepEqual(next.log.slice(3), ['105 d', '105 e']);
});

test('with a subscribe, removal takes effect at once, without a write', () => {
  const { flow, next, toxics } = setup([{ name: 'lag', type: 'latency', attributes: { latency: 1000 } }], {
    watchable: true,
  });
  flow.write(Buffer.from('a'));
  tick(10);
  toxics.remove('lag');
  assert.deepEqual(next.log, ['10 a']);
});

test('next.write() returning false holds delivery until next.ondrain, and the flow passes the pause on', () => {
  const { flow, next, drains } = setup([]);
  next.full = true;
  assert.equal(flow.write(Buffer.from('a')), false);
  assert.equal(flow.write(Buffer.from('b')), false);
  assert.deepEqual(next.log, ['0 a']);
  assert.equal(drains(), 0);
  next.drain(true);
  assert.deepEqual(next.log, ['0 a', '0 b']);
  assert.equal(drains(), 0, 'next is full again after b');
  next.drain();
  assert.equal(drains(), 1);
  flow.write(Buffer.from('c'));
  flow.end();
  assert.deepEqual(next.log, ['0 a', '0 b', '0 c', '0 FIN']);
});

test('a flow holds at most MAX_QUEUED_BYTES before write() returns false; ondrain follows', () => {
  const { flow, next, toxics, drains } = setup([
    { name: 'lag', type: 'latency', attributes: { latency: 100 } },
  ]);
  const chunk = Buffer.alloc(64 * 1024);
  const results: boolean[] = [];
  for (let i = 0; i < MAX_QUEUED_BYTES / chunk.length; i++) results.push(flow.write(chunk));
  assert.deepEqual(results, [true, true, true, false]);
  assert.equal(drains(), 0);
  tick(100);
  assert.equal(next.log.length, 4);
  assert.equal(drains(), 1);
  // A black hole fills to the bound too, and drains when it is removed.
  toxics.remove('lag');
  toxics.add({ name: 'hole', type: 'timeout' });
  for (let i = 0; i < 4; i++) flow.write(chunk);
  assert.equal(flow.write(chunk), false);
  toxics.remove('hole');
  tick(SYNC_POLL_MS);
  assert.equal(next.log.length, 9);
  assert.equal(drains(), 2);
});

test('destroy drops what is held and clears every timer', () => {
  const { flow, next, ends } = setup([
    { type: 'latency', attributes: { latency: 100 } },
    { type: 'reset_peer', stream: 'downstream', attributes: { timeout: 500, bytes: 1 } },
  ]);
  flow.write(Buffer.from('ab'));
  tick(100);
  assert.equal(next.data, 'a');
  flow.write(Buffer.from('c'));
  flow.destroy();
  assert.equal(next.destroyed, true);
  tick(10_000);
  assert.equal(next.data, 'a');
  assert.deepEqual(ends, []);
  assert.equal(flow.write(Buffer.from('d')), true);
  assert.equal(next.data, 'a');
});

test('toxics chain in list order: latency then limit_data closes after the delayed bytes', () => {
  const { flow, next, ends } = setup([
    { type: 'latency', attributes: { latency: 100 } },
    { type: 'limit_data', attributes: { bytes: 2 } },
    { type: 'slow_close', attributes: { delay: 50 } },
  ]);
  flow.write(Buffer.from('abc'));
  tick(100);
  assert.deepEqual(next.log, ['100 ab']);
  assert.deepEqual(ends, []);
  tick(50);
  assert.match(ends.join(), /^150 CLOSE/);
});

test('a flow may be written from its ondrain and destroyed from control, as the relay does', () => {
  const next = new Recorder();
  const toxics = new Toxics([{ type: 'reset_peer', attributes: { bytes: 4 } }]);
  let flow: ReturnType<typeof faultFlow> | undefined;
  const ends: string[] = [];
  const control: ConnControl = {
    reset: (reason) => {
      ends.push(reason);
      flow!.destroy();
    },
    close: () => assert.fail('not a close'),
  };
  flow = faultFlow('downstream', toxics, next, control, { random: () => 0 });
  const source = ['cd', 'ef'];
  flow.ondrain = () => {
    const c = source.shift();
    if (c !== undefined) flow!.write(Buffer.from(c));
  };
  next.full = true;
  assert.equal(flow.write(Buffer.from('ab')), false);
  next.drain();
  assert.equal(next.data, 'abcd');
  assert.equal(ends.length, 1);
  assert.equal(next.destroyed, true);
  assert.deepEqual(source, ['ef']);
});
