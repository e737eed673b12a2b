import type { Conn, DialOptions } from '../tcp/index.js';
import { dial } from '../tcp/index.js';
import { resolveTlsClient } from '../tls/client.js';
import type { PoolOptions } from './options.js';
import { Pool } from './pool.js';

/** TcpPoolOptions are PoolOptions for connections, plus how to dial them. */
export interface TcpPoolOptions extends Omit<PoolOptions<Conn>, 'create' | 'destroy' | 'watch'> {
  /**
   * dial options for each new connection (timeout, keepAlive, localAddress,
   * network, tls). With `tls`, a connection enters the pool only once its
   * handshake is done and its pin matched; a Unix socket is `unix:/path`.
   */
  dial?: Omit<DialOptions, 'signal'>;
}

/**
 * alive is false once the peer ended the connection (FIN or RST seen, even
 * while it sat idle in the pool) or the socket is gone: a server that closes
 * idle connections must not make the next request fail.
 */
export function alive(conn: Conn): boolean {
  return conn.peerClose === null && !conn.socket.destroyed && conn.socket.readyState === 'open';
}

/**
 * createTcpPool is a Pool of TCP connections to `address`: dialled on
 * demand, checked on borrow (and dropped the moment the server closes one
 * that is idle), destroyed when they fail, idle too long, or age out.
 */
export function createTcpPool(address: string, options: TcpPoolOptions = {}): Pool<Conn> {
  const { dial: dialOptions, validate: userValidate, ...poolOptions } = options;
  // Checked when the pool is made, not at its first dial, like every other option.
  resolveTlsClient(dialOptions?.tls);
  return new Pool<Conn>({
    ...poolOptions,
    create: ({ signal }) => dial(address, { ...dialOptions, signal }),
    destroy: (conn) => conn.destroy(),
    validate: (conn) => (alive(conn) ? (userValidate ? userValidate(conn) : true) : false),
    watch: (conn, dead) => {
      const s = conn.socket;
      s.once('end', dead);
      s.once('close', dead);
      // Like http.Agent's free sockets: an idle pool does not keep the process alive.
      s.unref();
      return () => {
        s.ref();
        s.off('end', dead);
        s.off('close', dead);
      };
    },
  });
}
