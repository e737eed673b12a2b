// The classic Go TCP line client, with netkit: dial, send a few lines, print
// each reply, then half-close and wait for the server's FIN.
//
//   node --import tsx examples/line-client.ts <address> [message...]
import { dial } from 'netkit';

const [address, ...messages] = process.argv.slice(2);
if (!address) throw new Error('usage: line-client <address> [message...]');

const conn = await dial(address, { timeout: 5000 });
for (const message of messages.length > 0 ? messages : ['hello', 'world']) {
  await conn.write(`${message}\n`);
  console.log(`reply: ${await conn.readLine()}`);
}
await conn.closeWrite(); // FIN: "I am done sending"; we can still read
console.log((await conn.read()) === null ? `eof (${conn.peerClose})` : 'unexpected data');
await conn.close();
