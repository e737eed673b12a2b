// Bundles the CLI's short-lived client commands, after tsc, into one file
// each under dist/cli/bundles/, so that `netkit tcp connect` starts by
// loading one module instead of about 55 plus commander. On Node 20, loading
// ES modules one by one (resolve, read, compile and link each) was most of a
// client command's start-up: 1.74× `node -e ''`, against about 1.45× bundled.
// Servers, the tour and help keep loading dist/ as tsc wrote it: they start
// once and run long, and some find files beside their own module (the tour's
// chapters, the entry point --workers forks).
//
// A bundle is dist/cli/program.js with only its own command inside: the
// program loads only the command argv names (ENTRIES in program.ts), and
// every other command's import becomes a module that throws if ever loaded.
// Two more rewrites keep the bundle as lazy as the modules it replaces:
//   - node: built-ins become small modules inside the bundle that require()
//     the built-in when first evaluated. An ES bundle hoists every external
//     import to its top, so `node:tls` (and `node:crypto` behind it) would
//     load at every start although `tcp connect` needs them only for --tls;
//     inside the bundle they load when the code that uses them first runs.
//   - version.js, which reads package.json relative to its own file, becomes
//     the version itself.
// Packages other than commander stay in node_modules.
//
// dist/cli/bundles/manifest.json says which argv each bundle serves and which
// files it was built from; src/cli/bundle.ts uses a bundle only while none of
// those is newer than it, so a later tsc (or a watch rebuild) can never leave
// the CLI running stale code.
//
// usage: node scripts/bundle-cli.mjs   (from anywhere, after tsc)
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist', 'cli', 'bundles');
const require = createRequire(import.meta.url);

/**
 * BUNDLES are the commands that get one: clients people run from scripts
 * and loops, where start-up is much of the run. `argv` is what the command
 * line starts with; `command` the file under dist/cli/commands/.
 */
export const BUNDLES = [
  { argv: ['tcp', 'connect'], command: 'tcp-connect' },
  { argv: ['udp', 'send'], command: 'udp-send' },
  { argv: ['ws', 'connect'], command: 'ws-connect' },
  { argv: ['rpc', 'call'], command: 'rpc-call' },
  { argv: ['resolve'], command: 'resolve' },
];

const BUILTINS = new Set(builtinModules);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** onlyCommand keeps one command in the bundle and turns every other into a module that throws. */
function onlyCommand(command) {
  return {
    name: 'netkit-only-command',
    setup(b) {
      b.onResolve({ filter: /^\.\/commands\/[\w-]+\.js$/ }, (args) => {
        const fromProgram = path.basename(args.importer) === 'program.js';
        if (!fromProgram || args.path === `./commands/${command}.js`) return undefined;
        return { path: args.path, namespace: 'netkit-absent' };
      });
      b.onLoad({ filter: /.*/, namespace: 'netkit-absent' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`netkit: ${args.path} is not in the ${command} bundle`)});`,
        loader: 'js',
      }));
    },
  };
}

/** lazyBuiltins makes each node: built-in a module in the bundle that require()s it when first evaluated. */
const lazyBuiltins = {
  name: 'netkit-lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!BUILTINS.has(name) || args.importer.includes(`${path.sep}node_modules${path.sep}`))
        return undefined;
      // The require() inside the module below is the real built-in.
      if (args.namespace === 'netkit-builtin') return { path: `node:${name}`, external: true };
      return { path: name, namespace: 'netkit-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'netkit-builtin' }, (args) => {
      // The same names Node's own ES facade for the built-in exports.
      const names = Object.keys(require(`node:${args.path}`)).filter(
        (k) => IDENTIFIER.test(k) && k !== 'default',
      );
      const named = names.length > 0 ? `export const { ${names.join(', ')} } = m;` : '';
      return {
        contents: `const m = require(${JSON.stringify(`node:${args.path}`)});\nexport default m;\n${named}\n`,
        loader: 'js',
      };
    });
  },
};

/** rewrites replaces version.js with the version and commander.js with a plain import, which the bundle then holds. */
async function rewrites(version) {
  const commander = Object.keys(
    await import(pathToFileURL(path.join(ROOT, 'dist', 'cli', 'commander.js')).href),
  );
  return {
    name: 'netkit-rewrites',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/]cli[\\/]version\.js$/ }, () => ({
        contents: `export const VERSION = ${JSON.stringify(version)};`,
        loader: 'js',
      }));
      b.onLoad({ filter: /[\\/]dist[\\/]cli[\\/]commander\.js$/ }, () => ({
        contents: `export { ${commander.join(', ')} } from 'commander';`,
        loader: 'js',
        resolveDir: ROOT,
      }));
    },
  };
}

async function main() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const rewrite = await rewrites(pkg.version);
  rmSync(OUT, { recursive: true, force: true });
  const manifest = { bundles: [] };
  for (const { argv, command } of BUNDLES) {
    const file = `${command}.js`;
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: [path.join('dist', 'cli', 'program.js')],
      outfile: path.join(OUT, file),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // commander is CommonJS: inside an ES bundle its require() calls need a require.
      banner: {
        js: "import { createRequire as __netkitRequire } from 'node:module';\nconst require = __netkitRequire(import.meta.url);",
      },
      external: Object.keys({
        ...pkg.dependencies,
        ...pkg.optionalDependencies,
        ...pkg.peerDependencies,
      }).filter((d) => d !== 'commander'),
      // Whitespace and syntax only: error classes report their names from
      // constructor.name, which renaming identifiers would break.
      minifyWhitespace: true,
      minifySyntax: true,
      // No source map: it would name commander's files, whose place depends on
      // where the package is installed. Names are kept, so a stack trace still
      // reads; with dist/cli/bundles/ removed the CLI runs from dist/ and its maps.
      sourcemap: false,
      metafile: true,
      logLevel: 'warning',
      plugins: [onlyCommand(command), lazyBuiltins, rewrite],
    });
    const inputs = Object.keys(result.metafile.inputs)
      .filter((p) => !p.includes(':'))
      .map((p) => path.relative(OUT, path.join(ROOT, p)).split(path.sep).join('/'));
    inputs.push('../../../package.json');
    manifest.bundles.push({ argv, file, builtMs: statSync(path.join(OUT, file)).mtimeMs, inputs });
  }
  writeFileSync(path.join(OUT, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
