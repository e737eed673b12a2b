import { formatAddr, resolveTCPAddr } from '../../addr/index.js';
import { NetkitError } from '../../errors.js';
import type { Chapter } from '../chapter.js';

const CASES: [network: string, address: string, expect: string][] = [
  ['tcp', 'localhost:http', '127.0.0.1:80'],
  ['tcp', ':8330', ':8330'],
  ['tcp6', '[::1%lo]:0', '[::1%lo]:0'],
  ['tcp4', '[::ffff:127.0.0.1]:22', '127.0.0.1:22'],
  ['tcp4', '[::1]:80', 'NETKIT_NO_SUITABLE_ADDRESS'],
  ['tcp', '127.0.0.1', 'NETKIT_MISSING_PORT'],
  ['tcp5', '127.0.0.1:80', 'NETKIT_UNKNOWN_NETWORK'],
];

/** Addresses: Go's ResolveTCPAddr rules, applied to the inputs people get wrong. */
const chapter: Chapter = {
  title: "Addresses: Go's ResolveTCPAddr rules",
  async run(t) {
    for (const [network, address, expect] of CASES) {
      let got: string;
      try {
        const r = await resolveTCPAddr(network, address, { signal: t.signal });
        got = formatAddr(r);
      } catch (err) {
        if (!(err instanceof NetkitError)) throw err;
        got = err.code;
      }
      t.say(`${network.padEnd(5)} ${address.padEnd(24)} -> ${got}`);
      t.check(got === expect, `resolve ${network} ${address}: got ${got}, want ${expect}`);
    }
    t.fact('cases', CASES.length);
  },
};
export default chapter;
