/**
 * ioredis is optional: importing netkit/ws must not load it, and Redis
 * fan-out without it must fail with NETKIT_UNSUPPORTED naming the package.
 * Each child runs with a resolve hook that makes `ioredis` unresolvable, as
 * if it were not installed; a static import of it anywhere under src/ws
 * makes the child's first import fail.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

const HOOKS = `
export async function resolve(specifier, context, next) {
  if (specifier === 'ioredis' || specifier.startsWith('ioredis/')) {
    const err = new Error("Cannot find package 'ioredis' (hidden by the test)");
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(
  `data:text/javascript,${encodeURIComponent(HOOKS)}`,
)});`;

/** withoutIoredis runs `body` (an ES module) in a child that cannot resolve ioredis and parses its last line as JSON. */
async function withoutIoredis(body: string): Promise<Record<string, unknown>> {
  const src = (p: string) => JSON.stringify(new URL(`../../../src/${p}`, import.meta.url).href);
  const code = `const ws = await import(${src('ws/index.ts')});
const errors = await import(${src('errors.ts')});
${body}`;
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      `data:text/javascript,${encodeURIComponent(REGISTER)}`,
      '--input-type=module',
      '-e',
      code,
    ],
    { timeout: 30_000 },
  );
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

test('netkit/ws imports without ioredis, and the hook really hides it', async () => {
  const got = await withoutIoredis(`
let hidden = false;
try { await import('ioredis'); } catch (err) { hidden = err.code === 'ERR_MODULE_NOT_FOUND'; }
console.log(JSON.stringify({ hidden, RedisBus: typeof ws.RedisBus, serveWs: typeof ws.serveWs }));`);
  assert.deepEqual(got, { hidden: true, RedisBus: 'function', serveWs: 'function' });
});

test('without ioredis, RedisBus.start and serveWs with a RedisBus reject with NETKIT_UNSUPPORTED', async () => {
  const got = await withoutIoredis(`
const describe = (err) => ({ code: err?.code, unsupported: err instanceof errors.UnsupportedError, message: err?.message });
const bus = new ws.RedisBus('redis://127.0.0.1:6379');
const start = await bus.start(() => {}).then(() => 'resolved', describe);
const serve = await ws.serveWs('127.0.0.1:0', { mode: 'broadcast', bus: new ws.RedisBus('redis://127.0.0.1:6379') })
  .then((s) => (s.close(), 'resolved'), describe);
await bus.close();
console.log(JSON.stringify({ start, serve }));
process.exit(0);`);
  const want = {
    code: 'NETKIT_UNSUPPORTED',
    unsupported: true,
    message: 'Redis fan-out needs the "ioredis" package: npm install ioredis',
  };
  assert.deepEqual(got, { start: want, serve: want });
});
