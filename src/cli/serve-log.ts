import { formatDuration } from '../internal/duration.js';
import { formatBytes } from '../internal/text.js';
import type { Conn, ConnSummary, Server } from '../tcp/index.js';
import type { Output } from './output.js';

/**
 * logConnections prints each connection a TCP-based server opens, closes
 * (FIN, RST or closed here, bytes, duration, error code) or refuses, in the
 * same words and --json events for every serve command (`tcp serve`,
 * `rpc serve`). `worker` tags the events of a --workers process.
 */
export function logConnections(server: Server, out: Output, worker?: string): void {
  const tag = worker === undefined ? {} : { worker: Number(worker) };
  server.on('open', (conn: Conn) => {
    out.event(
      'open',
      { remote: conn.remoteAddr?.address, local: conn.localAddr?.address, ...tag },
      `open  ${conn.remoteAddr?.address}`,
    );
  });
  server.on('close', (conn: Conn, s: ConnSummary) => {
    const how = s.peerClose === 'fin' ? 'FIN' : s.peerClose === 'rst' ? 'RST' : 'closed here';
    const why = s.error ? ` ${out.paint('yellow', s.error.code)}` : '';
    out.event(
      'close',
      {
        remote: conn.remoteAddr?.address,
        peerClose: s.peerClose,
        bytesIn: s.bytesRead,
        bytesOut: s.bytesWritten,
        durationMs: Math.round(s.durationMs),
        error: s.error?.code,
        ...tag,
      },
      `close ${conn.remoteAddr?.address} ${how} in ${formatBytes(s.bytesRead)} out ${formatBytes(s.bytesWritten)} ${formatDuration(s.durationMs)}${why}`,
    );
  });
  server.on('refuse', (remote) => {
    out.event(
      'refuse',
      { remote: remote?.address, reason: 'max-connections', ...tag },
      `refused ${remote?.address} (at --max-conns)`,
    );
  });
}
