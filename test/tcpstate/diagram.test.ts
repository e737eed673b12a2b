import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainStates, renderStateDiagram } from '../../src/tcpstate/diagram.js';
import { STATE_HELP, TCP_STATES, type TcpStateName } from '../../src/tcpstate/states.js';

// The diagram draws the states a connection moves through; CLOSE and
// NEW_SYN_RECV are kernel bookkeeping with no box of their own.
const DRAWN = TCP_STATES.filter((s) => s !== 'CLOSE' && s !== 'NEW_SYN_RECV');
const ESC = /\x1b\[[0-9;]*m/g;

/** boxes finds the text drawn for a state's box: ` NAME `, `*NAME*` or a callback's output. */
function boxes(art: string, name: string): string[] {
  const re = new RegExp(`\\|[ *]*${name}[ *]*\\|`, 'g');
  return art.match(re) ?? [];
}

test('every state a connection passes through has a box, labelled in the kernel spelling', () => {
  const art = renderStateDiagram(new Set());
  for (const s of DRAWN) assert.equal(boxes(art, s).length, 1, `${s} drawn once`);
  assert.equal(boxes(art, 'CLOSED').length, 2, 'CLOSED at the start and the end');
  assert.doesNotMatch(art, /FIN_WAIT_1|SYN_RCVD|\*/);
  for (const label of [
    'close / FIN',
    'rcv FIN / ACK',
    'rcv ACK of FIN',
    '2MSL timeout',
    'rcv SYN / SYN,ACK',
  ]) {
    assert.ok(art.includes(label), `transition ${label}`);
  }
  assert.match(art, /ACTIVE CLOSE.*PASSIVE CLOSE/);
});

test('marked states are starred, the others not, and no line moves or grows past 100 columns', () => {
  const plain = renderStateDiagram(new Set()).split('\n');
  for (const s of DRAWN) {
    const art = renderStateDiagram(new Set([s]));
    assert.equal(boxes(art, `\\*${s}\\*`).length, 1, `${s} marked`);
    for (const other of DRAWN.filter((o) => o !== s)) {
      assert.ok(!art.includes(`*${other}*`), `${other} unmarked when only ${s} is`);
    }
    const lines = art.split('\n');
    assert.equal(lines.length, plain.length);
    assert.deepEqual(
      lines.map((l) => l.length),
      plain.map((l) => l.length),
    );
  }
  const all = renderStateDiagram(new Set(TCP_STATES)).split('\n');
  assert.ok(all.every((l) => l.length <= 100));
  assert.ok(all.every((l, i) => l.replaceAll('*', ' ') === plain[i]));
  assert.equal(boxes(all.join('\n'), '\\*CLOSED\\*').length, 2, "CLOSED stands for the kernel's CLOSE");
});

test('a mark callback only wraps the name; layout is computed on the plain text', () => {
  const bold = (name: string) => `\x1b[1m${name}\x1b[0m`;
  const marked = new Set<TcpStateName>(['TIME_WAIT', 'CLOSE_WAIT']);
  const art = renderStateDiagram(marked, bold);
  assert.ok(art.includes(`|  ${bold('TIME_WAIT')}  |`));
  assert.ok(art.includes(`| ${bold('CLOSE_WAIT')}  |`));
  assert.ok(!art.includes(bold('ESTABLISHED')));
  assert.equal(art.replace(ESC, ''), renderStateDiagram(new Set()));
});

test('output is stable: same input, same drawing, same number of lines', () => {
  const a = renderStateDiagram(new Set(['ESTABLISHED']));
  assert.equal(a, renderStateDiagram(new Set(['ESTABLISHED'])));
  assert.equal(a.split('\n').length, 42);
  assert.match(a.split('\n')[0] ?? '', /^ +\+-+\+$/);
  assert.match(a.split('\n').at(-1) ?? '', /2MSL timeout/);
});

test('explainStates gives one aligned line per marked state, in kernel order', () => {
  assert.deepEqual(explainStates(new Set()), []);
  const lines = explainStates(new Set<TcpStateName>(['TIME_WAIT', 'ESTABLISHED', 'CLOSE_WAIT']));
  assert.deepEqual(lines, [
    `ESTABLISHED  ${STATE_HELP.ESTABLISHED}`,
    `TIME_WAIT    ${STATE_HELP.TIME_WAIT}`,
    `CLOSE_WAIT   ${STATE_HELP.CLOSE_WAIT}`,
  ]);
  assert.equal(explainStates(new Set(TCP_STATES)).length, TCP_STATES.length);
});
