// Runs a server with its stdout sent where a user sends it: `node stdout-to.mjs
// TARGET COMMAND ARGS…` starts COMMAND with stdout opened on TARGET (/dev/null,
// or a file that is removed when it stops), so the server writes its log there
// exactly as under `netkit http serve > TARGET`. COMMAND must take the address
// as "127.0.0.1:PORT": PORT is replaced by a free port found here, and this
// process prints "listening 127.0.0.1:<port>" once the server accepts
// connections (the server's own listening line went to TARGET). SIGTERM and
// SIGINT are passed on; this process exits with the server.
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import net from 'node:net';

const [target, command, ...args] = process.argv.slice(2);
if (!target || !command) {
  process.stderr.write('usage: node stdout-to.mjs TARGET COMMAND ARGS… (an argument 127.0.0.1:PORT)\n');
  process.exit(2);
}

// A port the kernel just handed out and released: free unless something else takes it in between.
const port = await new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = s.address();
    s.close(() => resolve(p));
  });
  s.on('error', reject);
});

const fd = openSync(target, 'w');
const child = spawn(
  command,
  args.map((a) => a.replace('127.0.0.1:PORT', `127.0.0.1:${port}`)),
  { stdio: ['ignore', fd, 'inherit'] },
);
closeSync(fd);
const done = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));

function accepts() {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

let ready = false;
for (let i = 0; i < 300 && child.exitCode === null && child.signalCode === null; i++) {
  if (await accepts()) {
    ready = true;
    break;
  }
  await new Promise((r) => setTimeout(r, 50));
}
if (ready) process.stdout.write(`listening 127.0.0.1:${port}\n`);
const { code, signal } = await done;
if (target !== '/dev/null') rmSync(target, { force: true });
process.exit(signal ? 1 : (code ?? 1));
