import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMPACT_AT, Fifo } from '../../src/internal/fifo.js';

const N = COMPACT_AT;

/**
 * Each case is a script of steps applied both to a Fifo and to a plain
 * array as the model: `push k` pushes k new numbers, `shift k` shifts k
 * times, `unshift v` puts v back, `remove v` removes v, `clear` empties.
 */
const cases: [name: string, script: string][] = [
  ['empty', 'shift 1'],
  ['push then drain', 'push 5; shift 5; shift 1'],
  ['interleaved', 'push 3; shift 2; push 4; shift 3; push 1; shift 3'],
  ['shifts just below the compaction point', `push ${3 * N}; shift ${N - 1}; push 2`],
  ['shifts at the compaction point, head under half', `push ${3 * N}; shift ${N}`],
  ['compacts once head is half', `push ${2 * N}; shift ${N}; push 3; shift 5`],
  ['compacts at head = length / 2 exactly', `push ${2 * N + 2}; shift ${N + 1}; shift 1`],
  ['drains past several compactions', `push ${5 * N}; shift ${4 * N + 7}; push 10; shift ${N}`],
  ['unshift after a shift reuses the slot', 'push 3; shift 1; unshift -1; shift 1'],
  ['unshift with nothing taken', 'push 3; unshift -1; unshift -2; shift 2'],
  ['unshift into an emptied queue', 'push 2; shift 2; unshift -1; push 1'],
  ['unshift right after a compaction', `push ${2 * N}; shift ${N}; unshift -1; shift 2`],
  ['remove the front', 'push 4; remove 0; push 1'],
  ['remove the middle and back', 'push 5; shift 1; remove 2; remove 4; push 2'],
  ['remove what is not there', 'push 3; shift 1; remove 0; remove 99'],
  ['remove the last one empties', 'push 1; remove 0; unshift -1; shift 1'],
  ['remove after compaction', `push ${2 * N}; shift ${N}; remove ${N + 5}; shift 10`],
  ['clear and reuse', 'push 4; shift 1; clear; push 2; shift 1'],
  ['clear after compaction', `push ${3 * N}; shift ${2 * N}; clear; shift 1`],
];

test('Fifo behaves like an array queue across compaction boundaries', () => {
  for (const [i, [name, script]] of cases.entries()) {
    const q = new Fifo<number>();
    const model: number[] = [];
    let next = 0;
    for (const step of script.split('; ')) {
      const where = `#${i} ${name}, ${step}`;
      const [op, arg] = step.split(' ');
      const n = Number(arg);
      if (op === 'push') {
        for (let k = 0; k < n; k++) {
          q.push(next);
          model.push(next++);
        }
      } else if (op === 'shift') {
        for (let k = 0; k < n; k++) assert.equal(q.shift(), model.shift(), `${where}: shift ${k}`);
      } else if (op === 'unshift') {
        q.unshift(n);
        model.unshift(n);
      } else if (op === 'remove') {
        const at = model.indexOf(n);
        if (at >= 0) model.splice(at, 1);
        assert.equal(q.remove(n), at >= 0, `${where}: remove`);
      } else if (op === 'clear') {
        assert.deepEqual(q.clear(), model.splice(0), `${where}: clear`);
      } else {
        throw new Error(`${where}: unknown step`);
      }
      assert.equal(q.length, model.length, `${where}: length`);
      assert.equal(q.peek(), model[0], `${where}: peek`);
      assert.deepEqual([...q], model, `${where}: contents`);
    }
  }
});

test('Fifo holds bounded memory for a queue that never empties', () => {
  const q = new Fifo<number>();
  for (let i = 0; i < 10; i++) q.push(i);
  for (let i = 10; i < 100_000; i++) {
    q.push(i);
    assert.equal(q.shift(), i - 10);
  }
  assert.equal(q.length, 10);
  assert.ok(q.capacity <= 2 * COMPACT_AT + 10, `capacity ${q.capacity}`);
});

test('Fifo keeps its array when a short queue empties, and lets a large one go', () => {
  const q = new Fifo<object>();
  q.push({});
  q.push({});
  q.shift();
  q.shift();
  assert.equal(q.capacity, 2, 'a short queue keeps its slots: the next push allocates nothing');
  q.push({});
  assert.equal(q.capacity, 2);

  const big = new Fifo<number>();
  for (let i = 0; i < 5 * COMPACT_AT; i++) big.push(i);
  while (big.length > 0) big.shift();
  assert.ok(big.capacity < COMPACT_AT, `a drained burst still holds ${big.capacity} slots`);
});
