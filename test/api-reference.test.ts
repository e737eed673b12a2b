// test: alone
/**
 * The API reference builds with TypeDoc's validation turned into errors: every
 * public export documented, no link to nothing, no exported name that points at
 * a type left out of the reference. It loads both cores for about ten seconds,
 * hence `alone`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './helpers/tools.js';

const run = promisify(execFile);
const TYPEDOC = path.join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');

/** Subpath exports of package.json that are modules (not ./package.json), as import specifiers. */
async function subpaths(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, unknown>;
  };
  return Object.keys(pkg.exports)
    .filter((k) => k !== './package.json')
    .map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
}

test('typedoc.json names every subpath export and keeps validation strict', async () => {
  const config = JSON.parse(await readFile(path.join(ROOT, 'typedoc.json'), 'utf8')) as {
    entryPoints: string[];
    validation: Record<string, boolean>;
    treatWarningsAsErrors: boolean;
  };
  assert.deepEqual(config.validation, { notExported: true, invalidLink: true, notDocumented: true });
  assert.equal(config.treatWarningsAsErrors, true);
  // Each subpath's dist file comes from the matching src file (tsc maps src/ to dist/ one to one).
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  const expected = Object.entries(pkg.exports)
    .filter(([k]) => k !== './package.json')
    .map(([, v]) => (v as { default: string }).default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))
    .sort();
  assert.deepEqual([...config.entryPoints].sort(), expected);
});

test('the API reference builds without a warning and has a page for every subpath export', async (t) => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'netkit-api-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  // The flags repeat typedoc.json's validation so that loosening the file cannot pass here.
  const args = [
    TYPEDOC,
    '--out',
    out,
    '--validation.notExported',
    '--validation.invalidLink',
    '--validation.notDocumented',
    '--treatWarningsAsErrors',
    '--logLevel',
    'Warn',
  ];
  const result = await run(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 16 << 20,
    timeout: 120_000,
  }).then(
    (r) => ({ code: 0, output: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, output: e.stdout + e.stderr }),
  );
  assert.equal(result.code, 0, result.output);
  for (const name of await subpaths()) {
    // TypeDoc names a module page after the module's `@module` tag, with '/' turned into '_'.
    const page = path.join(out, 'modules', `${name.replaceAll('/', '_')}.html`);
    await assert.doesNotReject(access(page), `no page for ${name} (${page})`);
  }
});
