// The classic "file transfer between two hosts", with netkit: one side
// receives into a directory, the other sends files or whole directories.
// Unlike the classic (name, "ok", bytes until close), every file is checked
// with SHA-256, an interrupted transfer resumes, and the receiver never
// writes outside its directory.
//
//   node --import tsx examples/file-transfer.ts recv <dir> [address]
//   node --import tsx examples/file-transfer.ts send <address> <path...>
import { sendFiles, serveFiles } from 'netkit/transfer';

const [mode, ...args] = process.argv.slice(2);
if (mode === 'recv') {
  const receiver = await serveFiles(args[1] ?? '127.0.0.1:8340', { dir: args[0] ?? '.' });
  console.log(`listening ${receiver.addr.address} -> ${receiver.dir}`);
  process.once('SIGINT', () => void receiver.close());
  for await (const t of receiver) {
    console.log(
      t.ok ? `received ${t.files} files, ${t.bytes} bytes from ${t.peer}` : `failed: ${t.error?.code}`,
    );
  }
} else if (mode === 'send' && args.length >= 2) {
  const summary = await sendFiles(args.slice(1), args[0]!, {
    onEvent: (e) => {
      if (e.type === 'file-end') console.log(`${e.status} ${e.path} (${e.size} bytes)`);
    },
  });
  console.log(`sent ${summary.files} files, ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s`);
} else {
  console.error('usage: file-transfer.ts recv <dir> [address] | send <address> <path...>');
  process.exitCode = 2;
}
