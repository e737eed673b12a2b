// A TLS line server with an ephemeral certificate, and a client that trusts
// it by pinning the fingerprint the server prints — no CA, no -k. A client
// with another pin is refused before it sends a byte.
//
//   node --import tsx examples/tls-pinned.ts
import { dial, echoHandler, isNetkitError, listen, serve } from 'netkit';

const listener = await listen('127.0.0.1:0', { tls: true });
const pin = listener.tls?.fingerprint ?? '';
console.log(`listening ${listener.addr.address} tls ${pin}`);
const server = serve(listener, echoHandler({ frame: 'line' }));

const conn = await dial(listener.addr.address, { tls: { pin } });
await conn.write('hello over TLS\n');
console.log(`reply: ${(await conn.read())?.toString().trim()}`);
await conn.close();

const wrong = `sha256:${'0'.repeat(64)}`;
try {
  await dial(listener.addr.address, { tls: { pin: wrong } });
} catch (err) {
  if (!isNetkitError(err, 'NETKIT_TLS_FAILED')) throw err;
  console.log(`wrong pin: ${err.code}`);
}
await server.close();
