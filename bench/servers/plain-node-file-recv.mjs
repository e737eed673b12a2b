// The plain-Node anchor for the transfer benchmark: what a Node.js user
// writes to receive one file: accept one connection and pipe it into a
// write stream. No name, no size, no checksum (like the classic Go receiver).
//
// usage: node bench/servers/plain-node-file-recv.mjs <file>
// Prints "listening 127.0.0.1:<port>" once ready; exits after one file.
import fs from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';

const server = net.createServer(async (socket) => {
  server.close();
  await pipeline(socket, fs.createWriteStream(process.argv[2]));
});
server.listen(0, '127.0.0.1', () => console.log(`listening 127.0.0.1:${server.address().port}`));
