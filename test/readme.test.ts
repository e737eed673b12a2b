/**
 * The code blocks of README.md run. TypeScript blocks run with tsx against the
 * built package (`import … from 'netkit'` resolves through the package's
 * self-reference to dist/); each line of a shell block runs with the built
 * CLI on loopback: a server until it says it is listening (then Ctrl-C, which
 * must exit 0), a client against a server the test starts, anything else to
 * its end. A block or line the tables below do not name runs to its end and
 * must exit 0, so a new one is tested by default.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type Proc, spawnProc } from './helpers/cli.js';
import { startRedis } from './helpers/redis.js';
import { makeCert } from './helpers/tls-certs.js';
import { ROOT } from './helpers/tools.js';

const run = promisify(execFile);

/** Shell lines that cannot run here, and why. */
const SKIP: Record<string, string> = {
  'npm install netkit': 'installs the published package from the registry',
  'npm install && npm start': 'sets up a checkout; the suite runs on its result',
  'npm test': 'runs this suite',
  'netkit send --via rv.example:9009 photos/':
    'needs a receiver at the same rendezvous; test/cli/transfer-via.test.ts runs --via both ways',
};

/**
 * Servers: the README line, and the same command on a free loopback port (the
 * tests bind nothing else). `{dir}` is the line's working directory.
 */
const SERVERS: Record<string, string> = {
  'netkit tcp serve': 'netkit tcp serve 127.0.0.1:0',
  'netkit tcp serve :9000 --echo --workers 2': 'netkit tcp serve 127.0.0.1:0 --echo --workers 2',
  'netkit tcp serve 127.0.0.1:0 --frame len32 --echo --json':
    'netkit tcp serve 127.0.0.1:0 --frame len32 --echo --json',
  'netkit udp serve': 'netkit udp serve 127.0.0.1:0',
  'netkit http serve': 'netkit http serve 127.0.0.1:0',
  'netkit http serve :8000 --dir ./public': 'netkit http serve 127.0.0.1:0 --dir ./public',
  'netkit ws serve --page': 'netkit ws serve 127.0.0.1:0 --page',
  'netkit ws serve --mode broadcast --redis redis://127.0.0.1:6379':
    'netkit ws serve 127.0.0.1:0 --mode broadcast --redis {redis}',
  'netkit rpc serve': 'netkit rpc serve 127.0.0.1:0',
  'netkit recv :8340 --dir incoming': 'netkit recv 127.0.0.1:0 --dir incoming',
  'netkit relay :9000 127.0.0.1:8330 --dump text': 'netkit relay 127.0.0.1:0 127.0.0.1:8330 --dump text',
  'netkit relay :9000 127.0.0.1:8330 --fault latency=100ms --fault slicer=4,delay=5ms':
    'netkit relay 127.0.0.1:0 127.0.0.1:8330 --fault latency=100ms --fault slicer=4,delay=5ms',
  'netkit relay --api 127.0.0.1:8474': 'netkit relay --api 127.0.0.1:0',
  'netkit states --port 8330 --watch': 'netkit states --port 8330 --watch',
  'netkit states --port 8330 --web': 'netkit states --port 8330 --web',
  'netkit relay :9000 127.0.0.1:8330 --web': 'netkit relay 127.0.0.1:0 127.0.0.1:8330 --web',
  'netkit tcp serve :8443 --echo --tls': 'netkit tcp serve 127.0.0.1:0 --echo --tls',
  'netkit http serve :8443 --cert site.pem --key site.key --client-ca team-ca.pem':
    'netkit http serve 127.0.0.1:0 --cert site.pem --key site.key --client-ca team-ca.pem',
  'netkit rpc serve unix:/run/arith.sock --socket-mode 0660':
    'netkit rpc serve unix:{dir}/arith.sock --socket-mode 0660',
  'netkit relay :8080 ws://127.0.0.1:9000/ws': 'netkit relay 127.0.0.1:0 ws://127.0.0.1:9000/ws',
  // The targets move from other hosts to loopback ports nobody listens on.
  'netkit relay :7000 10.0.0.1:7000 10.0.0.2:7000 --balance least-conns --send-proxy v2':
    'netkit relay 127.0.0.1:0 127.0.0.1:7000 127.0.0.2:7000 --balance least-conns --send-proxy v2',
  "netkit relay 127.0.0.1:2222 exec:'/bin/cat -n'": "netkit relay 127.0.0.1:0 exec:'/bin/cat -n'",
};

/** What a server prints once it is ready: its address, and for some a code or a fingerprint. */
const READY =
  /^(?:listening|relaying|live page|Toxiproxy-compatible API on|\{"event":"listening","address":")\s*(?:https?:\/\/|ws:\/\/)?(unix:\S+|[^\s"/]+)|Recv-Q/m;

/** Servers whose Ctrl-C exit is not 0: a watch that is interrupted exits 130, as a client does. */
const INTERRUPT_EXIT: Record<string, number> = { 'netkit states --port 8330 --watch': 130 };

/**
 * Clients: the server each talks to (a README line of SERVERS), what in the
 * line is that server's address (and code or pin), stdin, and what the output
 * must show.
 */
interface Client {
  server: string;
  address: string;
  code?: string;
  pin?: string;
  stdin?: string;
  expect: RegExp;
}
const CLIENTS: Record<string, Client> = {
  'npx netkit tcp connect 127.0.0.1 8330': {
    server: 'netkit tcp serve',
    address: '127.0.0.1 8330',
    stdin: 'hello\n',
    expect: /Hello, Client!/,
  },
  'netkit tcp connect 127.0.0.1:8330': {
    server: 'netkit tcp serve',
    address: '127.0.0.1:8330',
    stdin: 'hello\n',
    expect: /Hello, Client!/,
  },
  "netkit tcp connect 127.0.0.1:80 --send 'HEAD / HTTP/1.0\\r\\n\\r\\n'": {
    server: 'netkit http serve',
    address: '127.0.0.1:80',
    expect: /^HTTP\/1\.[01] 200/,
  },
  "printf 'a\\nb\\n' | netkit tcp connect 127.0.0.1:9000 --frame len32 --hex": {
    server: 'netkit tcp serve 127.0.0.1:0 --frame len32 --echo --json',
    address: '127.0.0.1:9000',
    expect: /00000000: 61 .*\n00000000: 62 /,
  },
  'netkit udp send 127.0.0.1:8330 hello --wait 1s': {
    server: 'netkit udp serve',
    address: '127.0.0.1:8330',
    // The server never answers with more bytes than it received.
    expect: /Hello/,
  },
  'netkit http get http://127.0.0.1:8080/x -i --timing': {
    server: 'netkit http serve',
    address: '127.0.0.1:8080',
    expect: /HTTP\/1\.1 200[\s\S]*Hello, you've requested: \/x/,
  },
  'netkit ws connect ws://127.0.0.1:8080/echo --send hello': {
    server: 'netkit ws serve --page',
    address: '127.0.0.1:8080',
    expect: /hello/,
  },
  'netkit rpc call 127.0.0.1:1234 Arith.Multiply \'{"A":7,"B":8}\'': {
    server: 'netkit rpc serve',
    address: '127.0.0.1:1234',
    expect: /^56$/m,
  },
  'netkit send report.pdf photos/ host:8340 --code 6872-spot-exist-glove': {
    server: 'netkit recv :8340 --dir incoming',
    address: 'host:8340',
    code: '6872-spot-exist-glove',
    expect: /./,
  },
  'netkit tcp connect 127.0.0.1:8443 --pin sha256:3f1c…': {
    server: 'netkit tcp serve :8443 --echo --tls',
    address: '127.0.0.1:8443',
    pin: 'sha256:3f1c…',
    stdin: 'hello\n',
    expect: /hello/,
  },
};

/**
 * TypeScript blocks that are clients of a server the README starts in a shell
 * block: the test starts that server and puts its address in the program.
 */
const TS_CLIENTS: { marker: string; server: string; address: string; expect: RegExp }[] = [
  {
    marker: "dial('127.0.0.1:8330'",
    server: 'netkit tcp serve',
    address: '127.0.0.1:8330',
    expect: /Hello, Client!/,
  },
];

/** What some TypeScript blocks must print, keyed by a line of the block. */
const TS_EXPECT: { marker: string; expect: RegExp }[] = [
  { marker: "replyHandler('Hello, Client!')", expect: /^Hello, Client!\nnull\n$/ },
  { marker: "createEncoder('len32')", expect: /^one message\n$/ },
  {
    marker: "resolveTCPAddr('tcp4', '[::1]:80')",
    expect: /ip: '127\.0\.0\.1'[\s\S]*NETKIT_NO_SUITABLE_ADDRESS/,
  },
  { marker: "client.call('Arith.Multiply'", expect: /^56\n$/ },
  { marker: 'dialWs(`ws://', expect: /^hi\n$/ },
];

/** Fixed ports TypeScript blocks listen on, moved to free ones (the tests bind nothing else). */
const TS_LISTEN: [from: string, to: string][] = [
  ["serveRpc('127.0.0.1:1234'", "serveRpc('127.0.0.1:0'"],
  ["serveWs('127.0.0.1:8080'", "serveWs('127.0.0.1:0'"],
];

interface Block {
  lang: string;
  body: string;
  line: number;
}

async function readmeBlocks(): Promise<Block[]> {
  const text = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const blocks: Block[] = [];
  for (const m of text.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
    blocks.push({
      lang: (m[1] ?? '').trim().split(/\s+/)[0] ?? '',
      body: m[2] ?? '',
      line: text.slice(0, m.index).split('\n').length,
    });
  }
  return blocks;
}

/** shellLines are a shell block's commands, comments and blank lines dropped. */
function shellLines(body: string): string[] {
  return body
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** A directory per line with what the README's commands refer to: public/, report.pdf, photos/, certificates. */
async function workDir(t: TestContext, base: string): Promise<string> {
  const dir = await mkdtemp(path.join(base, 'line-'));
  await mkdir(path.join(dir, 'public'));
  await writeFile(path.join(dir, 'public', 'index.html'), '<p>hi</p>\n');
  await writeFile(path.join(dir, 'report.pdf'), '%PDF-1.4 not really\n');
  await mkdir(path.join(dir, 'photos'));
  await writeFile(path.join(dir, 'photos', 'a.jpg'), 'jpeg bytes');
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a shell command line to its end; `netkit` is the built CLI (a wrapper on PATH). */
function runLine(
  cmd: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  stdin = '',
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', cmd], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd}: still running after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** Starts a README server line (on a free loopback port) and waits until it is ready. */
async function startServer(
  t: TestContext,
  readmeLine: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ proc: Proc; address: string; output: string } | undefined> {
  let cmd = SERVERS[readmeLine];
  assert.ok(cmd, `no test command for server line ${readmeLine}`);
  cmd = cmd.replaceAll('{dir}', cwd);
  if (cmd.includes('{redis}')) {
    const redis = await startRedis(t);
    if (!redis) return undefined;
    cmd = cmd.replace('{redis}', redis.url);
  }
  if (cmd.includes('--cert site.pem')) {
    // The README's server certificate and the team's CA, made in-process (test/helpers/tls-certs.ts).
    const site = await makeCert({ name: 'localhost', hosts: ['localhost', '127.0.0.1'] });
    const ca = await makeCert({ name: 'team CA', ca: true });
    for (const [file, text] of [
      ['site.key', site.key],
      ['site.pem', site.cert],
      ['team-ca.key', ca.key],
      ['team-ca.pem', ca.cert],
    ] as const) {
      await writeFile(path.join(cwd, file), text);
    }
  }
  // exec: the CLI itself gets the SIGINT, as from Ctrl-C.
  const proc = spawnProc('bash', ['-c', `exec ${cmd}`], { env, cwd });
  t.after(() => proc.kill('SIGKILL'));
  const m = await proc.waitFor(READY, 15_000);
  return { proc, address: m[1] ?? '', output: proc.stdout() };
}

/** Stops a server as Ctrl-C does; it must exit 0. */
async function interrupt(proc: Proc, expected = 0): Promise<void> {
  const { code, signal } = await proc.kill('SIGINT');
  assert.deepEqual({ code, signal }, { code: expected, signal: null }, proc.stderr());
}

test('README.md code blocks run', async (t) => {
  // test-output/ is not in a fresh clone.
  await mkdir(path.join(ROOT, 'test-output'), { recursive: true });
  const base = await mkdtemp(path.join(ROOT, 'test-output', 'readme-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const bin = path.join(base, 'bin');
  await mkdir(bin);
  await writeFile(
    path.join(bin, 'netkit'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, 'dist', 'cli', 'main.js'))} "$@"\n`,
  );
  await chmod(path.join(bin, 'netkit'), 0o755);
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, NO_COLOR: '1' };

  await t.test("'netkit' in a block is the built package (its self-reference)", async () => {
    const probe = path.join(base, 'resolve.ts');
    await writeFile(probe, "console.log(import.meta.resolve('netkit/tcp'));\n");
    const r = await run(process.execPath, ['--import', 'tsx', probe], { cwd: ROOT });
    assert.equal(r.stdout.trim(), pathToFileURL(path.join(ROOT, 'dist', 'tcp', 'index.js')).href);
  });

  const blocks = await readmeBlocks();
  assert.ok(blocks.length > 0, 'README.md has no code blocks');
  const seen = new Set<string>();
  for (const block of blocks) {
    if (block.lang === 'ts' || block.lang === 'js') {
      await t.test(`README.md:${block.line} (${block.lang})`, async (t) => {
        const cwd = await workDir(t, base);
        let source = block.body;
        for (const [from, to] of TS_LISTEN) source = source.replaceAll(from, to);
        const client = TS_CLIENTS.find((c) => source.includes(c.marker));
        let server: Awaited<ReturnType<typeof startServer>>;
        if (client) {
          server = await startServer(t, client.server, env, cwd);
          if (!server) return;
          source = source.replaceAll(client.address, server.address);
        }
        // Inside the repository, so that 'netkit' resolves to the package itself.
        const file = path.join(cwd, `block.${block.lang === 'ts' ? 'ts' : 'mjs'}`);
        await writeFile(file, source);
        const r = await runLine(
          `exec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(file)}`,
          env,
          ROOT,
          '',
          30_000,
        );
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        const expect = client?.expect ?? TS_EXPECT.find((e) => source.includes(e.marker))?.expect;
        if (expect) assert.match(r.stdout, expect);
        if (server) await interrupt(server.proc);
      });
    } else if (block.lang === 'sh' || block.lang === 'bash' || block.lang === 'console') {
      for (const readmeLine of shellLines(block.body)) {
        const line = readmeLine.replace(/^npx netkit /, 'netkit ');
        if (seen.has(line)) continue;
        seen.add(line);
        // A line that cannot run here is listed with its reason, not turned into a test that passes empty.
        const notRun = SKIP[readmeLine];
        if (notRun) {
          t.diagnostic(`not run: README.md:${block.line}: ${readmeLine} (${notRun})`);
          continue;
        }
        await t.test(`README.md:${block.line}: ${readmeLine}`, async (t) => {
          const cwd = await workDir(t, base);
          if (SERVERS[line]) {
            const server = await startServer(t, line, env, cwd);
            if (server) await interrupt(server.proc, INTERRUPT_EXIT[line]);
            return;
          }
          const client = CLIENTS[readmeLine];
          if (client) {
            const server = await startServer(t, client.server, env, cwd);
            if (!server) return;
            let cmd = line;
            const [host, port] = [
              server.address.slice(0, server.address.lastIndexOf(':')),
              server.address.split(':').pop(),
            ];
            cmd = cmd.replace(
              client.address,
              client.address.includes(' ') ? `${host} ${port}` : server.address,
            );
            if (client.code) {
              const code = /code (\S+?)\)/.exec(server.output)?.[1];
              assert.ok(code, `no code in: ${server.output}`);
              cmd = cmd.replace(client.code, code);
            }
            if (client.pin) {
              const pin = /tls (sha256:[0-9a-f]+)/.exec(server.output)?.[1];
              assert.ok(pin, `no fingerprint in: ${server.output}`);
              cmd = cmd.replace(client.pin, pin);
            }
            const r = await runLine(cmd, env, cwd, client.stdin ?? '');
            assert.equal(r.code, 0, `${cmd}\n${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, client.expect);
            await interrupt(server.proc);
            return;
          }
          // Anything else runs to its end.
          const r = await runLine(line, env, cwd);
          assert.equal(r.code, 0, `${line}\n${r.stdout}\n${r.stderr}`);
        });
      }
    } else {
      assert.fail(
        `README.md:${block.line}: a \`\`\`${block.lang} block; run it here or say why it cannot run`,
      );
    }
  }
});
