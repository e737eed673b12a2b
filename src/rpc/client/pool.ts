import type { PoolOptions } from '../../pool/options.js';
import { Pool } from '../../pool/pool.js';
import { resolveTlsClient } from '../../tls/client.js';
import type { RpcClient } from './client.js';
import { dialRpc, type RpcDialOptions } from './dial.js';

/** RpcPoolOptions are PoolOptions for RPC clients, plus how to dial them. */
export interface RpcPoolOptions extends Omit<PoolOptions<RpcClient>, 'create' | 'destroy' | 'watch'> {
  /** dial is how each pooled client is dialled; the pool's own signals cancel the dials. */
  dial?: Omit<RpcDialOptions, 'signal'>;
}

/**
 * createRpcPool is a Pool of net/rpc clients to `address`. One client
 * already multiplexes concurrent calls over its connection; a pool spreads
 * them over several connections (and several server goroutines or
 * workers), and replaces a client whose connection died:
 * `await pool.use((c) => c.call('Arith.Multiply', { A: 7, B: 8 }))`.
 */
export function createRpcPool(address: string, options: RpcPoolOptions = {}): Pool<RpcClient> {
  const { dial: dialOptions, validate: userValidate, ...poolOptions } = options;
  // Checked when the pool is made, not at its first dial, like every other option.
  resolveTlsClient(dialOptions?.tls);
  return new Pool<RpcClient>({
    ...poolOptions,
    create: ({ signal }) => dialRpc(address, { ...dialOptions, signal }),
    destroy: (client) => client.close(),
    validate: (client) => (client.closed ? false : userValidate ? userValidate(client) : true),
  });
}
