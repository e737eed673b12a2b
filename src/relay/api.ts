/**
 * The Toxiproxy HTTP API (toxiproxy-server's api.go) over a RelayHub, so
 * Toxiproxy's clients and the test suites written with them drive netkit
 * unchanged: the same routes, JSON shapes, status codes and error body
 * `{"error": "...", "status": N}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError, NetkitError } from '../errors.js';
import { readBody } from '../http/server/body.js';
import type { HandlerState } from '../http/server/handler.js';
import { HTTP_SERVER_DEFAULTS } from '../http/server/options.js';
import { type HttpServer, startHttpServer } from '../http/server/serve.js';
import { sendJson } from '../internal/json-reply.js';
import { checkInt, checkSignal, checkString } from '../internal/validate.js';
import type { Listener } from '../tcp/listener.js';
import type { ToxicSpec } from './faults/index.js';
import { HubError, type ProxySpec, type RelayHub } from './hub.js';
import type { Relay } from './relay.js';
import { ToxicError } from './toxics.js';

/** RelayApiOptions configure serveRelayApi(). */
export interface RelayApiOptions {
  /** hub holds the proxies the API shows and changes. */
  hub: RelayHub;
  /** maxBodyBytes caps a request body; a larger one gets 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** version is what GET /version reports. Default RELAY_API_VERSION. */
  version?: string;
  /** maxConnections caps open API connections; past it new ones are reset. Default 256. */
  maxConnections?: number;
  /** signal closes the API server (not the hub) when aborted. */
  signal?: AbortSignal;
}

/**
 * RELAY_API_VERSION is the Toxiproxy version whose API this is, with
 * netkit as semver build metadata, which version comparisons ignore.
 */
export const RELAY_API_VERSION = '2.12.0+netkit';

/** RelayApi is a running serveRelayApi() server: netkit's HttpServer (address, url, graceful close()). */
export type RelayApi = HttpServer;

/** ToxicJson is a toxic as the API shows it. */
export type ToxicJson = Pick<ToxicSpec, 'name' | 'type' | 'stream' | 'toxicity' | 'attributes'>;

/** ProxyJson is a proxy as the API shows it; `listen` is the bound address once bound. */
export interface ProxyJson {
  /** name is the proxy's name, its key in the API. */
  name: string;
  /** listen is the address clients connect to. */
  listen: string;
  /** upstream is the target, or several separated by commas. */
  upstream: string;
  /** enabled is false while the proxy is disabled (listener closed). */
  enabled: boolean;
  /** toxics are the proxy's faults, in the order they apply. */
  toxics: ToxicJson[];
}

/** Reply is a handler's answer: a status and a JSON body, or none for 204. */
type Reply = { status: number; body?: unknown };
/** Call is one request as a route's handler sees it: the hub, the names in the path, the body parsed on demand. */
interface Call {
  hub: RelayHub;
  params: string[];
  body(): unknown;
  version: string;
}
type Handler = (c: Call) => Reply | Promise<Reply>;

const ROUTES: { path: string[]; methods: Record<string, Handler> }[] = [
  { path: ['version'], methods: { GET: ({ version }) => ({ status: 200, body: { version } }) } },
  { path: ['reset'], methods: { POST: async ({ hub }) => noContent(await hub.reset()) } },
  { path: ['populate'], methods: { POST: populate } },
  {
    path: ['proxies'],
    methods: {
      GET: ({ hub }) => ({
        status: 200,
        body: Object.fromEntries(hub.list().map((r) => [r.name, proxyJson(hub, r)])),
      }),
      POST: async ({ hub, body }) => ({
        status: 201,
        body: proxyJson(hub, await hub.create(body() as ProxySpec)),
      }),
    },
  },
  {
    path: ['proxies', '*'],
    methods: {
      GET: ({ hub, params: [p] }) => ({ status: 200, body: proxyJson(hub, hub.get(p!)) }),
      POST: updateProxy,
      PATCH: updateProxy,
      DELETE: async ({ hub, params: [p] }) => noContent(await hub.remove(p!)),
    },
  },
  {
    path: ['proxies', '*', 'toxics'],
    methods: {
      GET: ({ hub, params: [p] }) => ({ status: 200, body: toxicsJson(hub.get(p!)) }),
      // Toxiproxy answers a new toxic with 200, not 201.
      POST: ({ hub, params: [p], body }) => ({
        status: 200,
        body: toxicJson(hub.get(p!).toxics.add(body())),
      }),
    },
  },
  {
    path: ['proxies', '*', 'toxics', '*'],
    methods: {
      GET: ({ hub, params: [p, t] }) => ({ status: 200, body: toxicJson(hub.get(p!).toxics.get(t!)) }),
      POST: updateToxic,
      PATCH: updateToxic,
      DELETE: ({ hub, params: [p, t] }) => noContent(hub.get(p!).toxics.remove(t!)),
    },
  },
];

/** noContent is the 204 of a route that did what was asked. */
function noContent(_done: unknown): Reply {
  return { status: 204 };
}

/** NO_BODY are the routes that ignore a body, as Toxiproxy's do. */
const NO_BODY = new Set(['GET', 'DELETE']);

async function populate({ hub, body }: Call): Promise<Reply> {
  const done: Relay[] = [];
  try {
    await hub.populate(body() as ProxySpec[], done);
    return { status: 201, body: { proxies: done.map((r) => proxyJson(hub, r)) } };
  } catch (err) {
    // Toxiproxy names the proxies made before the failure beside the error.
    const e = errorReply(err);
    return { status: e.status, body: { ...(e.body as object), proxies: done.map((r) => proxyJson(hub, r)) } };
  }
}

async function updateProxy({ hub, params: [p], body }: Call): Promise<Reply> {
  hub.get(p!);
  return { status: 200, body: proxyJson(hub, await hub.update(p!, body() as object)) };
}

function updateToxic({ hub, params: [p, t], body }: Call): Reply {
  const toxics = hub.get(p!).toxics;
  toxics.get(t!);
  return { status: 200, body: toxicJson(toxics.update(t!, body())) };
}

/** proxyJson is `relay` as Toxiproxy shows a proxy, toxics included. */
export function proxyJson(hub: RelayHub, relay: Relay): ProxyJson {
  return {
    name: relay.name,
    listen: hub.listenOf(relay),
    upstream: relay.upstream,
    enabled: relay.enabled,
    toxics: toxicsJson(relay),
  };
}

// Toxiproxy lists a proxy's upstream toxics first, then its downstream ones, each in the order added.
function toxicsJson(relay: Relay): ToxicJson[] {
  return [...relay.toxics.list('upstream'), ...relay.toxics.list('downstream')].map(toxicJson);
}

function toxicJson(t: ToxicSpec): ToxicJson {
  return { name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity, attributes: t.attributes };
}

/**
 * errorReply maps an error to Toxiproxy's status: 404 and 409 for names,
 * 400 for a bad field, 500 for the rest, binding an address in use among
 * them, as toxiproxy-server answers.
 */
function errorReply(err: unknown): Reply {
  let status = 500;
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof HubError || err instanceof ToxicError) {
    status = err.status;
    // "proxy not found: db" reads as Toxiproxy's "proxy not found", without the option's prefix.
    if (message.startsWith(`${err.option}: `)) message = message.slice(err.option.length + 2);
  } else if (err instanceof InvalidArgumentError) status = 400;
  else if (!(err instanceof NetkitError)) message = `internal error: ${message}`;
  return { status, body: { error: message, status } };
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new InvalidArgumentError('body', 'is empty; send JSON');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidArgumentError('body', `is not JSON (${(err as Error).message})`);
  }
}

/** ROUTE_LIST is the route table in words, for a 404's message. */
const ROUTE_LIST = ROUTES.map((r) => `/${r.path.map((s) => (s === '*' ? '{name}' : s)).join('/')}`).join(
  ', ',
);

function makeHandler(hub: RelayHub, maxBody: number, version: string, state: HandlerState, browsers = false) {
  const send = (res: ServerResponse, reply: Reply, extra: Record<string, string> = {}) => {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = { ...extra };
    if (state.closing) headers.connection = 'close';
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    sendJson(res, reply.status, reply.body, headers);
  };
  const fail = (res: ServerResponse, status: number, error: string, extra?: Record<string, string>) =>
    send(res, { status, body: { error, status } }, extra);

  /** refusal is the answer to a request no route takes, or undefined with the route and its names. */
  const match = (req: IncomingMessage, method: string, url: string) => {
    // As toxiproxy-server: a web page the user visits must not drive the API through the browser.
    if (!browsers && (req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
      return { refusal: [403, 'user agent not allowed: the API is for programs, not browsers'] as const };
    }
    let path: string[];
    try {
      path = url.split('?')[0]!.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return { refusal: [400, `bad request path: ${url}`] as const };
    }
    if (path.at(-1) === '' && path.length > 1) path.pop();
    const route = ROUTES.find(
      (r) => r.path.length === path.length && r.path.every((s, i) => s === '*' || s === path[i]),
    );
    if (route === undefined) {
      return { refusal: [404, `not found: ${method} ${url}; the routes are ${ROUTE_LIST}`] as const };
    }
    const handler = route.methods[method];
    if (handler === undefined) {
      const allow = Object.keys(route.methods).join(', ');
      return { refusal: [405, `method not allowed: ${method}; ${url} takes ${allow}`] as const, allow };
    }
    return { route, handler, params: path.filter((_, i) => route.path[i] === '*') };
  };

  return (req: IncomingMessage, res: ServerResponse, url = req.url ?? '/'): void => {
    const method = req.method ?? 'GET';
    const m = match(req, method, url);
    if (m.refusal !== undefined) {
      req.resume();
      fail(res, m.refusal[0], m.refusal[1], m.allow !== undefined ? { allow: m.allow } : {});
      return;
    }
    const { route, handler, params } = m;
    const run = async (body: Buffer) => {
      try {
        send(res, await handler({ hub, params, body: () => parseJson(body), version }));
      } catch (err) {
        send(res, errorReply(err));
      }
    };
    if (NO_BODY.has(method) || route.path[0] === 'reset') {
      req.resume();
      req.once('end', () => void run(Buffer.alloc(0)));
      return;
    }
    readBody(
      req,
      maxBody,
      () => fail(res, 413, `request body over ${maxBody} bytes (maxBodyBytes)`, { connection: 'close' }),
      (body) => void run(body),
    );
  };
}

/** RelayApiHandlerOptions configure relayApiHandler(). */
export interface RelayApiHandlerOptions {
  /** maxBodyBytes caps a request body; a larger one gets 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** version is what GET /version reports. Default RELAY_API_VERSION. */
  version?: string;
  /**
   * browsers lets requests from browsers through, which serveRelayApi
   * refuses as toxiproxy-server does. Set it only where something else
   * keeps other sites out: the live page's mount admits only requests
   * from the page's own origin (and its token beyond loopback).
   */
  browsers?: boolean;
}

/**
 * relayApiHandler is the Toxiproxy API for `hub` as a request handler, to
 * mount inside another server: `path` is the route (`/proxies/db`), for a
 * mount under a prefix; without it the request's own URL is used.
 */
export function relayApiHandler(
  hub: RelayHub,
  options: RelayApiHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse, path?: string) => void {
  const maxBody = checkInt(
    'maxBodyBytes',
    options.maxBodyBytes ?? HTTP_SERVER_DEFAULTS.maxBodyBytes,
    1,
    2 ** 31 - 1,
  );
  const version = checkString('version', options.version ?? RELAY_API_VERSION, true);
  return makeHandler(hub, maxBody, version, { closing: false }, options.browsers === true);
}

/**
 * serveRelayApi serves the Toxiproxy HTTP API for `hub` on `address`
 * (Go's syntax: `127.0.0.1:8474`, or a Listener), with netkit's HTTP
 * defences (header and request timeouts, a body cap, a connection cap).
 * The API has no authentication, as Toxiproxy's: bind it to loopback.
 * Resolves once listening; closing it leaves the hub's proxies running.
 * Rejects with NETKIT_INVALID_ARGUMENT for a bad option, or
 * NETKIT_LISTEN_FAILED when the address cannot be bound.
 */
export async function serveRelayApi(address: Listener | string, options: RelayApiOptions): Promise<RelayApi> {
  if (options === null || typeof options !== 'object' || options.hub === undefined) {
    throw new InvalidArgumentError('hub', 'is missing: serveRelayApi needs the RelayHub it serves');
  }
  const maxBody = checkInt(
    'maxBodyBytes',
    options.maxBodyBytes ?? HTTP_SERVER_DEFAULTS.maxBodyBytes,
    1,
    2 ** 31 - 1,
  );
  const version = checkString('version', options.version ?? RELAY_API_VERSION, true);
  const base = {
    network: 'tcp',
    headersTimeout: HTTP_SERVER_DEFAULTS.headersTimeout,
    requestTimeout: HTTP_SERVER_DEFAULTS.requestTimeout,
    keepAliveTimeout: HTTP_SERVER_DEFAULTS.keepAliveTimeout,
    shutdownTimeout: HTTP_SERVER_DEFAULTS.shutdownTimeout,
    maxConnections: checkInt('maxConnections', options.maxConnections ?? 256, 1, 1_000_000),
    signal: checkSignal(options.signal),
  };
  return startHttpServer(address, (state) => makeHandler(options.hub, maxBody, version, state), base);
}
