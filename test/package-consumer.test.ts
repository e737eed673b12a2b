// test: alone
/**
 * The published package as a stranger gets it: `npm pack`, install the tarball
 * into a fresh ESM project, type-check a consumer under --strict without
 * skipLibCheck, then import and require every subpath export. `npm test`
 * builds dist first; this packs what is there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './helpers/tools.js';

const execFileP = promisify(execFile);

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
};

function versionOf(dep: string): string {
  const p = path.join(ROOT, 'node_modules', dep, 'package.json');
  return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
}

/**
 * One check per subpath export. `$` stands for the subpath's namespace.
 * `expr` runs in the ESM and CJS scripts and must give `want`; `typed` is
 * what consumer.ts does with the types, including one misuse tsc must reject,
 * so declarations that collapse to `any` fail the test.
 */
const CHECKS: Record<string, { expr: string; want: unknown; typed: string }> = {
  '.': {
    expr: `$.joinHostPort('::1', 80)`,
    want: '[::1]:80',
    typed: `const hp: string = $.joinHostPort('::1', 80);
// @ts-expect-error the port is a string or a number
$.joinHostPort('::1', {});`,
  },
  './addr': {
    expr: `$.splitHostPort('[::1]:80').port`,
    want: '80',
    typed: `const hp: { host: string; port: string } = $.splitHostPort('[::1]:80');
// @ts-expect-error no such field
hp.zone;`,
  },
  './tcp': {
    expr: `$.endpointText($.unixEndpoint('/tmp/x'))`,
    want: 'unix:/tmp/x',
    typed: `const options: $.DialOptions = { timeout: 1000, noDelay: true };
const dial: (target: string, options?: $.DialOptions) => Promise<$.Conn> = $.dial;
// @ts-expect-error timeout is milliseconds
const bad: $.DialOptions = { timeout: '1s' };`,
  },
  './framing': {
    expr: `$.createEncoder('line').encode(Buffer.from('hi')).toString('hex')`,
    want: '68690a',
    typed: `const enc: $.FrameEncoder = $.createEncoder('line');
const out: Buffer = enc.encode(Buffer.from('hi'));
// @ts-expect-error not a frame format
$.createEncoder('lines');`,
  },
  './udp': {
    expr: `$.maxPayload(4)`,
    want: 65507,
    typed: `const n: number = $.maxPayload(6);
// @ts-expect-error the family is 4 or 6
$.maxPayload(5);`,
  },
  './transfer': {
    expr: `$.normalizeCode(' 7 Foo BAR ')`,
    want: '7-foo-bar',
    typed: `const code: string = $.normalizeCode('7-foo-bar');
// @ts-expect-error options are an object
$.receiveFiles('7-foo-bar');`,
  },
  './rpc': {
    expr: `$.arith.Multiply({ A: 6, B: 7 })`,
    want: 42,
    typed: `const registry: $.Registry = new $.Registry().register('Arith', $.arith);
// @ts-expect-error a service is an object of methods
registry.register('Arith', 42);`,
  },
  './http': {
    expr: `$.escapeHtml('<a&b>')`,
    want: '&lt;a&amp;b&gt;',
    typed: `const html: string = $.escapeHtml('<a&b>');
// @ts-expect-error the text is a string
$.escapeHtml(1);`,
  },
  './ws': {
    expr: `$.isNormalClose($.CLOSE.NORMAL)`,
    want: true,
    typed: `const normal: boolean = $.isNormalClose($.CLOSE.NORMAL);
let peer: $.WsPeer | undefined;
const options: $.WsServerOptions | undefined = undefined;
// @ts-expect-error no such close code name
$.CLOSE.NORMALLY;`,
  },
  './tcpstate': {
    expr: `$.stateFromCode(10)`,
    want: 'LISTEN',
    typed: `const state: $.TcpStateName | undefined = $.stateFromCode(10);
// @ts-expect-error not a state name
const bad: $.TcpStateName = 'OPEN';`,
  },
  './live': {
    expr: `$.isLoopbackHost('127.0.0.1') && !$.isLoopbackHost('0.0.0.0')`,
    want: true,
    typed: `const page: $.LivePage = $.renderLivePage({ title: 't', style: '', script: '', body: '' });
const csp: string = page.csp;
// @ts-expect-error a page needs its body
$.renderLivePage({ title: 't', style: '', script: '' });`,
  },
  './pool': {
    expr: `typeof $.createTcpPool`,
    want: 'function',
    typed: `const create: (address: string, options?: $.TcpPoolOptions) => object = $.createTcpPool;
// @ts-expect-error the pool needs an address
$.createTcpPool();`,
  },
  './proxy': {
    expr: `$.crc32c('123456789')`,
    want: 0xe3069283,
    typed: `const crc: number = $.crc32c('123456789');
// @ts-expect-error bytes or text
$.crc32c(1);`,
  },
  './relay': {
    expr: `$.parseEndpoint('127.0.0.1:8080', 'target').kind`,
    want: 'tcp',
    typed: `const ep: $.RelayEndpoint = $.parseEndpoint('127.0.0.1:8080', 'target');
const where: string = ep.kind === 'tcp' || ep.kind === 'tls' ? ep.address : ep.text;
// @ts-expect-error the role is listen or target
$.parseEndpoint('127.0.0.1:8080', 'source');`,
  },
  './tls': {
    expr: `$.parsePin('--pin', 'sha256:' + 'AB'.repeat(32))`,
    want: `sha256:${'ab'.repeat(32)}`,
    typed: `const pin: string = $.parsePin('--pin', 'sha256:' + 'ab'.repeat(32));
// @ts-expect-error the option name comes first
$.parsePin('sha256:00');`,
  },
  './tunnel': {
    expr: `$.parseProxyUrl('socks5h://127.0.0.1').port`,
    want: 1080,
    typed: `const spec: $.ProxySpec = $.parseProxyUrl('http://proxy:3128');
const scheme: $.ProxyScheme = spec.scheme;
// @ts-expect-error not a proxy scheme
const bad: $.ProxyScheme = 'https';`,
  },
  './errors': {
    expr: `new $.InvalidArgumentError('--x', 'bad').code`,
    want: 'NETKIT_INVALID_ARGUMENT',
    typed: `const err: $.NetkitError = new $.InvalidArgumentError('--x', 'bad');
const code: $.ErrorCode = err.code;
// @ts-expect-error not an error code
const bad: $.ErrorCode = 'NETKIT_NOPE';`,
  },
};

const SUBPATHS = Object.keys(pkg.exports).filter((s) => s !== './package.json');
const specifier = (sub: string) => (sub === '.' ? 'netkit' : `netkit/${sub.slice(2)}`);

function consumerTs(): string {
  const imports = SUBPATHS.map((s, i) => `import * as m${i} from '${specifier(s)}';`);
  const blocks = SUBPATHS.map((s, i) => `{\n${CHECKS[s]!.typed.replaceAll('$.', `m${i}.`)}\n}`);
  return `${imports.join('\n')}\n\n${blocks.join('\n')}\n`;
}

function runtimeScript(kind: 'esm' | 'cjs'): string {
  const load = SUBPATHS.map((s, i) =>
    kind === 'esm'
      ? `import * as m${i} from '${specifier(s)}';`
      : `const m${i} = require('${specifier(s)}');`,
  );
  const got = SUBPATHS.map(
    (s, i) => `  ${JSON.stringify(s)}: ${CHECKS[s]!.expr.replaceAll('$.', `m${i}.`)},`,
  );
  return `${load.join('\n')}\nconsole.log(JSON.stringify({\n${got.join('\n')}\n}));\n`;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

// npm run by `npm test` passes its own state down as npm_* variables; the
// consumer's npm must see only the user's configuration.
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !/^npm_config_(cache|registry|userconfig)$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, npm_config_update_notifier: 'false' };
}

const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network/i;

test('every check covers a subpath export, and every subpath export has a check', () => {
  assert.deepEqual(Object.keys(CHECKS).sort(), [...SUBPATHS].sort());
  assert.equal(pkg.scripts.prepack, 'npm run build', 'a fresh clone must build before it packs');
});

test('the packed tarball installs, type-checks, imports and requires in a fresh project', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-consumer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = cleanEnv();
  const run = (file: string, args: string[], cwd = dir) =>
    execFileP(file, args, { cwd, env, maxBuffer: 64 << 20, timeout: 120_000 });

  // dist is already built (npm test builds first), so pack without prepack.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const tarball = path.join(dir, info.filename);

  // The tarball itself: license, readme, docs, and no map or source that points nowhere.
  const files = new Set(info.files.map((f) => f.path));
  for (const f of ['LICENSE', 'README.md', 'package.json']) assert.ok(files.has(f), `${f} is not packed`);
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const docLinks = [...readme.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]!);
  assert.ok(docLinks.length > 0, 'README links to no docs');
  for (const link of docLinks) assert.ok(files.has(link), `README links to ${link}, which is not packed`);

  await run('tar', ['-xzf', tarball, '-C', dir]);
  const unpacked = path.join(dir, 'package');
  let maps = 0;
  for (const file of walk(path.join(unpacked, 'dist'))) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.map')) {
      const map = JSON.parse(text) as { sources: string[]; sourceRoot?: string };
      for (const src of map.sources) {
        const target = path.resolve(path.dirname(file), map.sourceRoot ?? '', src);
        assert.ok(existsSync(target), `${path.relative(unpacked, file)} names ${src}, which is not packed`);
      }
      continue;
    }
    const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text);
    if (!m) continue;
    maps++;
    const target = path.resolve(path.dirname(file), m[1]!);
    assert.ok(existsSync(target), `${path.relative(unpacked, file)} points at ${m[1]}, which is not packed`);
  }
  assert.ok(maps > 0, 'no file in dist has a sourceMappingURL; the check above checked nothing');

  // A fresh ESM project with the same TypeScript and @types/node as ours.
  const consumer = path.join(dir, 'consumer');
  await run('mkdir', ['-p', consumer]);
  await writeFile(
    path.join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  try {
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        tarball,
        `typescript@${versionOf('typescript')}`,
        `@types/node@${versionOf('@types/node')}`,
      ],
      consumer,
    );
  } catch (err) {
    const e = err as Error & { stderr?: string };
    const out = `${e.message}\n${e.stderr ?? ''}`;
    if (!NETWORK.test(out)) throw err;
    const msg = 'npm install cannot reach the registry';
    if (process.env.CI === 'true') throw new Error(`${msg}; CI must reach it\n${out}`);
    t.skip(`${msg}\n${out.slice(0, 500)}`);
    return;
  }

  await writeFile(path.join(consumer, 'consumer.ts'), consumerTs());
  const tsc = path.join(consumer, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(
    process.execPath,
    [
      tsc,
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      'false',
      '--noEmit',
      'consumer.ts',
    ],
    consumer,
  ).catch((err: Error & { stdout?: string }) => {
    assert.fail(`tsc rejected consumer.ts:\n${err.stdout ?? err.message}\n${consumerTs()}`);
  });

  const want = Object.fromEntries(SUBPATHS.map((s) => [s, CHECKS[s]!.want]));
  for (const [name, kind] of [
    ['consumer.mjs', 'esm'],
    ['consumer.cjs', 'cjs'],
  ] as const) {
    await writeFile(path.join(consumer, name), runtimeScript(kind));
    const { stdout } = await run(process.execPath, [name], consumer);
    assert.deepEqual(JSON.parse(stdout), want, `${name} saw different values`);
  }

  const { stdout } = await run('npx', ['--no-install', 'netkit', '--version'], consumer);
  assert.equal(stdout.trim(), pkg.version);
});
