// The classic "file transfer between two hosts", with netkit: one side
// receives into a directory, the other sends files or whole directories.
// Unlike the classic (name, "ok", bytes until close), the transfer is
// encrypted under a key both sides derive from a short code the receiver
// prints (every byte authenticated), an interrupted transfer resumes, and
// the receiver never writes outside its directory.
//
//   node --import tsx examples/file-transfer.ts recv <dir> [address]
//   node --import tsx examples/file-transfer.ts send <address> <code> <path...>
import { sendFiles, serveFiles } from 'netkit/transfer';

const [mode, ...args] = process.argv.slice(2);
if (mode === 'recv') {
  const receiver = await serveFiles(args[1] ?? '127.0.0.1:8340', { dir: args[0] ?? '.' });
  console.log(`listening ${receiver.addr.address} -> ${receiver.dir} (code ${receiver.code})`);
  process.once('SIGINT', () => void receiver.close());
  for await (const t of receiver) {
    console.log(
      t.ok ? `received ${t.files} files, ${t.bytes} bytes from ${t.peer}` : `failed: ${t.error?.code}`,
    );
  }
} else if (mode === 'send' && args.length >= 3) {
  const summary = await sendFiles(args.slice(2), args[0]!, {
    code: args[1],
    onEvent: (e) => {
      if (e.type === 'file-end') console.log(`${e.status} ${e.path} (${e.size} bytes)`);
    },
  });
  console.log(`sent ${summary.files} files, ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s`);
} else {
  console.error('usage: file-transfer.ts recv <dir> [address] | send <address> <code> <path...>');
  process.exitCode = 2;
}
