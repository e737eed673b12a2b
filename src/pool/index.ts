/**
 * netkit/pool: a generic resource pool that never hangs and never leaks,
 * a TCP connection pool on it, and a line-protocol client over the pool.
 * The RPC client pool is createRpcPool in netkit/rpc.
 *
 * @module netkit/pool
 */
export { LineClient, type LineRequestOptions } from './line-client.js';
export type { PoolOptions } from './options.js';
export { Pool } from './pool.js';
export type { PoolEvents, PoolStats } from './stats.js';
export { alive, createTcpPool, type TcpPoolOptions } from './tcp.js';
