import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Output } from '../../src/cli/output.js';
import { ConnectionError } from '../../src/errors.js';
import { memoryIo } from '../helpers/cli.js';

function io(stdoutTTY: boolean, stderrTTY: boolean, env: Record<string, string> = {}) {
  return memoryIo({ stdoutTTY, stderrTTY, env });
}

const ESC = '\x1b[';

test('colour goes only to the stream that is a terminal, and never with NO_COLOR', async () => {
  const piped = io(false, true);
  const o = new Output(piped.value, false);
  assert.equal(o.paint('green', 'ok'), 'ok', 'stdout is a pipe: no colour');
  assert.ok(o.paint('red', 'x', 'stderr').includes(ESC), 'stderr is a terminal: colour');

  const tty = io(true, false);
  assert.ok(new Output(tty.value, false).paint('green', 'ok').includes(ESC));

  const noColor = io(true, true, { NO_COLOR: '1' });
  assert.equal(new Output(noColor.value, false).paint('green', 'ok'), 'ok');
});

test('errors: a code-tagged line on stderr, or a JSON event on stdout with --json', async () => {
  const human = io(false, false);
  new Output(human.value, false).error(
    new ConnectionError('NETKIT_DIAL_FAILED', 'dial tcp x: connection refused'),
  );
  await new Promise((r) => setImmediate(r));
  assert.equal(human.err(), 'netkit: dial tcp x: connection refused [NETKIT_DIAL_FAILED]\n');
  const json = io(false, false);
  new Output(json.value, true).error(new Error('plain failure'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(JSON.parse(json.out()), { event: 'error', message: 'plain failure' });
});
