// Go's net.ResolveTCPAddr, with netkit: same rules, same errors.
//
//   node --import tsx examples/resolve.ts tcp localhost:http
import { isNetkitError, resolveTCPAddr } from 'netkit';

const [network = 'tcp', address = 'localhost:http'] = process.argv.slice(2);
try {
  const r = await resolveTCPAddr(network, address);
  console.log(`${network} ${address} -> ip=${r.ip || '(unspecified)'} port=${r.port} zone=${r.zone || '-'}`);
} catch (err) {
  if (!isNetkitError(err)) throw err;
  console.log(`${network} ${address} -> ${err.code}: ${err.message}`);
  process.exitCode = 1;
}
