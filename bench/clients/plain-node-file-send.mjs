// The plain-Node anchor for the transfer benchmark, sending side: pipe a
// read stream into a socket, then close. Nothing is checked.
//
// usage: node bench/clients/plain-node-file-send.mjs <file> <host:port>
import fs from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';

const [file, address] = process.argv.slice(2);
const colon = address.lastIndexOf(':');
const socket = net.connect(Number(address.slice(colon + 1)), address.slice(0, colon));
await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
await pipeline(fs.createReadStream(file), socket);
