/**
 * The source behind `netkit states --web` over real sockets on loopback:
 * what a page is sent, the transitions between samples, the CLOSE_WAIT
 * warning, and that nothing is sampled while no page is open.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { serveLive } from '../../src/live/index.js';
import {
  DIAGRAM_STATES,
  renderStatesPage,
  type StatesSample,
  StatesSource,
  type StatesSourceOptions,
} from '../../src/live/states/index.js';
import { STATES_SCRIPT } from '../../src/live/states/script.js';
import { STATES_STYLE } from '../../src/live/states/style.js';
import { renderStateDiagram } from '../../src/tcpstate/diagram.js';
import { STATE_HELP, TCP_STATES } from '../../src/tcpstate/index.js';
import { cli, startCli } from '../helpers/cli.js';
import { sleep, until } from '../helpers/net.js';

const INTERVAL = 20;

async function listener(t: TestContext, onConn: (s: net.Socket) => void = () => {}) {
  // allowHalfOpen: a peer's FIN must not make Node end our side too (that is what lets CLOSE_WAIT last).
  const server = net.createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { server, port: (server.address() as net.AddressInfo).port };
}

function connect(t: TestContext, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => resolve(c));
    c.on('error', reject);
    t.after(() => c.destroy());
  });
}

/** watch subscribes to a new source and collects what it pushes. */
function watch(t: TestContext, options: StatesSourceOptions) {
  const source = new StatesSource({ interval: INTERVAL, ...options });
  const samples: StatesSample[] = [];
  const stop = source.subscribe((event, data) => {
    if (event === 'sample') samples.push(data as StatesSample);
  });
  t.after(() => {
    stop();
    source.close();
  });
  /** next waits for a sample that satisfies `ok`. */
  const next = async (ok: (s: StatesSample) => boolean, what: string) => {
    await until(() => samples.some(ok), 5000, what);
    return samples.find(ok)!;
  };
  return { source, samples, next, stop };
}

test('the snapshot lists a real connection with its peer port and owner', async (t) => {
  const { port } = await listener(t);
  const c = await connect(t, port);
  const { source, next } = watch(t, { read: { port } });
  await next((s) => s.at > 0, 'a first sample');
  const snap = source.snapshot();
  assert.equal(snap.interval, INTERVAL);
  assert.deepEqual(snap.filter, { port });
  const client = snap.sockets.find((s) => s.localPort === c.localPort);
  const server = snap.sockets.find((s) => s.localPort === port && s.remotePort === c.localPort);
  assert.equal(client?.state, 'ESTABLISHED');
  assert.equal(client.remote, `127.0.0.1:${port}`);
  assert.equal(server?.state, 'ESTABLISHED');
  assert.equal(server.pid, process.pid);
  assert.equal(typeof server.command, 'string');
  assert.equal(snap.counts.LISTEN, 1);
  assert.equal(snap.counts.ESTABLISHED, 2);
  assert.equal(snap.total, 3);
  // Every selected socket has the peer's port: the filter is the CLI's --port.
  assert.ok(snap.sockets.every((s) => s.localPort === port || s.remotePort === port));
});

test('transitions between samples: appeared, changed state, vanished; the snapshot keeps them', async (t) => {
  const { port } = await listener(t, (s) => s.on('end', () => s.end()));
  const { source, next } = watch(t, { read: { port } });
  await next((s) => s.at > 0, 'a baseline sample');
  const c = await connect(t, port);
  const cp = c.localPort as number;
  const appeared = await next(
    (s) => s.transitions.some((x) => x.kind === 'appeared' && x.local === `127.0.0.1:${cp}`),
    'the new connection appearing',
  );
  assert.equal(appeared.transitions.find((x) => x.local === `127.0.0.1:${cp}`)?.state, 'ESTABLISHED');
  c.end();
  // The client closed first: it moves on to TIME_WAIT; the server's socket goes away.
  const moved = await next(
    (s) =>
      s.transitions.some(
        (x) => x.kind === 'changed' && x.local === `127.0.0.1:${cp}` && x.state === 'TIME_WAIT',
      ),
    'the client socket changing to TIME_WAIT',
  );
  assert.equal(moved.counts.TIME_WAIT, 1);
  await next(
    (s) => s.transitions.some((x) => x.kind === 'vanished' && x.remote === `127.0.0.1:${cp}`),
    "the server's socket vanishing",
  );
  const kinds = new Set(source.snapshot().transitions.map((x) => x.kind));
  assert.deepEqual([...kinds].sort(), ['appeared', 'changed', 'vanished']);
});

test('the timeline kept for new pages is bounded', async (t) => {
  const { port } = await listener(t);
  const { source, next } = watch(t, { read: { port }, maxTimeline: 4 });
  await next((s) => s.at > 0, 'a baseline sample');
  for (let i = 0; i < 6; i++) await connect(t, port);
  // Each connection appears twice (client and server end): 12 transitions, 4 kept.
  await until(() => source.snapshot().counts.ESTABLISHED === 12, 5000, '12 ESTABLISHED sockets');
  const kept = source.snapshot().transitions;
  assert.equal(kept.length, 4);
  assert.ok(
    kept.every((x, i) => i === 0 || x.at >= kept[i - 1]!.at),
    'oldest first',
  );
});

test('a CLOSE_WAIT leak is warned about, with its owner, for as long as it lasts', async (t) => {
  const held: net.Socket[] = [];
  const { port } = await listener(t, (s) => held.push(s));
  const { source, next } = watch(t, { read: { port }, warnAfter: 50 });
  const c = await connect(t, port);
  c.end(); // the server never closes its side: CLOSE_WAIT
  const warned = await next((s) => s.warnings.length > 0, 'a CLOSE_WAIT warning');
  const w = warned.warnings[0]!;
  assert.equal(w.port, port);
  assert.equal(w.count, 1);
  assert.equal(w.pid, process.pid);
  assert.ok(w.since <= warned.at - 50, 'the socket lingered past warnAfter');
  assert.equal(source.snapshot().warnings.length, 1, 'a page opened now sees it too');
  for (const s of held) s.end();
  await next((s) => s.at > warned.at && s.warnings.length === 0, 'the warning cleared once closed');
});

test('no page, no sampling: the table is read only while someone is subscribed', async (t) => {
  const { port } = await listener(t);
  const source = new StatesSource({ read: { port }, interval: INTERVAL });
  t.after(() => source.close());
  await sleep(INTERVAL * 6);
  assert.equal(source.samples, 0);
  assert.equal(source.snapshot().at, 0);
  const stop = source.subscribe(() => {});
  assert.equal(source.sampling, true);
  await until(() => source.samples >= 3, 5000, 'three samples');
  stop();
  assert.equal(source.sampling, false);
  const n = source.samples;
  await sleep(INTERVAL * 6);
  assert.equal(source.samples, n, 'no sample after the last page left');
  // A second page brings it back.
  const again = source.subscribe(() => {});
  await until(() => source.samples > n, 5000, 'sampling again');
  again();
});

test('through serveLive: a page that goes away stops the sampling', async (t) => {
  const { port } = await listener(t);
  const source = new StatesSource({ read: { port }, interval: INTERVAL });
  const server = await serveLive('127.0.0.1:0', { page: renderStatesPage(), source });
  t.after(() => server.close());
  assert.equal(source.sampling, false);
  const req = http.get(`${server.url}events`);
  const res = await new Promise<http.IncomingMessage>((r) => req.once('response', r));
  assert.equal(res.statusCode, 200);
  let text = '';
  res.on('data', (d: Buffer) => {
    text += d.toString();
  });
  await until(() => /event: sample\n/.test(text), 5000, 'a sample event');
  assert.match(text, /^event: snapshot\n/);
  req.destroy();
  await until(() => !source.sampling, 5000, 'sampling stopped');
  const n = source.samples;
  await sleep(INTERVAL * 6);
  assert.equal(source.samples, n);
});

test('options are validated, naming the option', () => {
  for (const [options, name] of [
    [{ interval: 0 }, 'interval'],
    [{ warnAfter: -1 }, 'warnAfter'],
    [{ maxTimeline: 0 }, 'maxTimeline'],
    [{ maxSockets: 1.5 }, 'maxSockets'],
  ] as const) {
    assert.throws(
      () => new StatesSource(options),
      (err: unknown) => err instanceof InvalidArgumentError && err.message.includes(name),
      name,
    );
  }
});

test('the page: a box for every state of the text diagram, the --explain text, a script fit for its CSP', () => {
  const labels = new Set(
    [...renderStateDiagram(new Set()).matchAll(/\b(CLOSED|[A-Z]+_?[A-Z0-9]*)\b/g)]
      .map((m) => (m[1] === 'CLOSED' ? 'CLOSE' : m[1]!))
      .filter((s) => (TCP_STATES as readonly string[]).includes(s)),
  );
  assert.deepEqual([...DIAGRAM_STATES].sort(), [...labels].sort());
  // Linux keeps NEW_SYN_RECV outside the table; every other state has its box.
  assert.deepEqual(
    TCP_STATES.filter((s) => !DIAGRAM_STATES.has(s)),
    ['NEW_SYN_RECV'],
  );
  const { html, csp } = renderStatesPage();
  const help = /data-help="([^"]*)"/.exec(html)?.[1] ?? '';
  const decoded = help
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
  assert.deepEqual(JSON.parse(decoded.replace(/&amp;/g, '&')), STATE_HELP);
  assert.match(csp, /script-src 'sha256-[^']+'/);
  for (const part of [STATES_SCRIPT, STATES_STYLE]) {
    assert.ok(!part.includes('`') && !part.includes('${'), 'no template syntax in the page');
  }
  assert.ok(!STATES_SCRIPT.includes('innerHTML'), 'text reaches the DOM as text');
  for (const s of DIAGRAM_STATES) assert.match(html, new RegExp(`data-state="${s}" tabindex="0"`));
});

test('netkit states --web refuses --watch, --count and --explain, naming the conflict', async () => {
  for (const extra of [['--watch'], ['--watch', '1s', '--count', '2'], ['--explain']]) {
    const r = await cli(['states', '--web', ...extra]);
    assert.equal(r.code, 2, extra.join(' '));
    assert.match(r.stderr, new RegExp(`--web.*${extra.at(-1) === '2' ? '--watch' : extra[0]}`));
  }
  const count = await cli(['states', '--web', '--count', '3']);
  assert.equal(count.code, 2);
  assert.match(count.stderr, /--web.*--count/);
  const interval = await cli(['states', '--interval', '1s']);
  assert.equal(interval.code, 2);
  assert.match(interval.stderr, /--interval.*--web/);
  const fast = await cli(['states', '--web', '--interval', '10ms']);
  assert.equal(fast.code, 2);
});

test('netkit states --web prints the page URL, serves it, and stops cleanly on Ctrl-C', async () => {
  const run = startCli(['states', '--web', '--interval', '100ms']);
  const [, url] = await run.waitFor(/^live page (http:\/\/127\.0\.0\.1:\d+\/)$/m);
  const res = await fetch(url!);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<title>netkit states<\/title>/);
  run.abort();
  assert.equal(await run.done, 0);
  await assert.rejects(fetch(url!), 'the server is closed');
});

test('netkit states --web beyond loopback puts a token in the URL, and requires it', async () => {
  const run = startCli(['states', '--web', '0.0.0.0:0', '--json']);
  const [line] = await run.waitFor(/^\{"event":"live".*\n/m);
  const ev = JSON.parse(line) as { url: string; address: string; token?: boolean };
  assert.equal(ev.token, true);
  const url = new URL(ev.url);
  const token = url.searchParams.get('token');
  assert.ok(token && token.length >= 16);
  const port = url.port;
  assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 401);
  assert.equal((await fetch(`http://127.0.0.1:${port}/?token=${token}`)).status, 200);
  run.abort();
  assert.equal(await run.done, 0);
});
