/**
 * What the relay page calls under /api/: the relay's own Toxiproxy API
 * (the same routes, JSON and status codes as `--api`), and one route of
 * its own, GET /api/traffic/{key}, for a connection's traffic view.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../../internal/json-reply.js';
import { relayApiHandler } from '../../relay/api.js';
import type { RelayHub } from '../../relay/hub.js';
import type { RelayLiveSource } from './source.js';

const NO_STORE = { 'cache-control': 'no-store' };

function reply(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  sendJson(res, status, body, { ...extra, ...NO_STORE });
}

function fail(res: ServerResponse, status: number, error: string, extra?: Record<string, string>): void {
  reply(res, status, { error, status }, extra);
}

/**
 * isJson tells whether a request says its body is JSON. A page on another
 * site can send a cross-origin POST without asking first only with a
 * "simple" content type (form data, plain text); JSON needs a preflight,
 * which this server never grants.
 */
function isJson(type: string | undefined): boolean {
  return type !== undefined && /^application\/json\s*(;|$)/i.test(type.trim());
}

/**
 * relayLiveApi answers the page's requests under /api/ (`path` is what
 * follows /api). serveLive lets only same-origin requests (and, beyond
 * loopback, those with the token) get here, so the Toxiproxy API's refusal
 * of browsers is lifted for this mount; every request that changes
 * something must still say it sends JSON.
 */
export function relayLiveApi(
  hub: RelayHub,
  source: RelayLiveSource,
): (req: IncomingMessage, res: ServerResponse, path: string) => void {
  const toxiproxy = relayApiHandler(hub, { browsers: true });
  return (req, res, path) => {
    const method = req.method ?? 'GET';
    const traffic = /^\/traffic\/(\d{1,15})$/.exec(path);
    if (traffic !== null) {
      req.resume();
      if (method !== 'GET') {
        fail(res, 405, `method not allowed: ${method}; /api/traffic/{key} takes GET`, { allow: 'GET' });
        return;
      }
      const q = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      const mode = q.get('mode') === 'hex' ? 'hex' : 'text';
      const after = Number(q.get('after') ?? '0');
      const view = source.traffic(Number(traffic[1]), mode, Number.isSafeInteger(after) ? after : 0);
      if (view === undefined) fail(res, 404, `connection ${traffic[1]} is not remembered any more`);
      else reply(res, 200, view);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD' && !isJson(req.headers['content-type'])) {
      req.resume();
      fail(res, 415, 'send Content-Type: application/json: the page changes faults with JSON requests only');
      return;
    }
    toxiproxy(req, res, path);
  };
}
