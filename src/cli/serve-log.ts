import { formatDuration } from '../internal/duration.js';
import { formatBytes, safeText } from '../internal/text.js';
import { type Conn, type ConnSummary, endpointText, type Server } from '../tcp/index.js';
import { verifiedSubject } from '../tls/client.js';
import type { Output } from './output.js';

/** NO_FIELDS stands for a text line's event fields, which only --json prints. */
const NO_FIELDS: Record<string, unknown> = Object.freeze({});

/**
 * logConnections prints each connection a TCP-based server opens, closes
 * (FIN, RST or closed here, bytes, duration, error code) or refuses, in the
 * same words and --json events for every serve command (`tcp serve`,
 * `rpc serve`). A client certificate verified by --client-ca shows as its
 * subject (`CN=alice`); Unix peers as `unix:@`. `tag` is spread into every
 * event (`{ worker }` under --workers).
 */
export function logConnections(
  server: Server,
  out: Output,
  tag: Readonly<Record<string, unknown>> = {},
): void {
  // Each event builds only what is printed: its fields with --json, its line otherwise.
  server.on('open', (conn: Conn) => {
    const remote = endpointText(conn.remoteAddr);
    const subject = verifiedSubject(conn.socket);
    if (out.json) {
      out.event('open', {
        remote,
        local: endpointText(conn.localAddr),
        ...(subject === undefined ? {} : { subject }),
        ...tag,
      });
    } else {
      out.event('open', NO_FIELDS, `open  ${remote}${subject === undefined ? '' : ` ${safeText(subject)}`}`);
    }
  });
  server.on('close', (conn: Conn, s: ConnSummary) => {
    const remote = endpointText(conn.remoteAddr);
    if (out.json) {
      out.event('close', {
        remote,
        peerClose: s.peerClose,
        bytesIn: s.bytesRead,
        bytesOut: s.bytesWritten,
        durationMs: Math.round(s.durationMs),
        error: s.error?.code,
        ...tag,
      });
      return;
    }
    const how = s.peerClose === 'fin' ? 'FIN' : s.peerClose === 'rst' ? 'RST' : 'closed here';
    const why = s.error ? ` ${out.paint('yellow', s.error.code)}` : '';
    out.event(
      'close',
      NO_FIELDS,
      `close ${remote} ${how} in ${formatBytes(s.bytesRead)} out ${formatBytes(s.bytesWritten)} ${formatDuration(s.durationMs)}${why}`,
    );
  });
  server.on('refuse', (remote) => {
    out.event(
      'refuse',
      { remote: endpointText(remote), reason: 'max-connections', ...tag },
      `refused ${endpointText(remote)} (at --max-conns)`,
    );
  });
}
