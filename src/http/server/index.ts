/**
 * `serveHttp`: a small HTTP server for poking at clients — the classic Go
 * "Hello, you've requested" handler, a request inspector (JSON or HTML), and
 * response shaping from query parameters, with body, header and request
 * limits on by default; the user's own routes and handler in front of it;
 * and the inspector alone, to mount in another server.
 */
export { negotiate, type Representation } from './handler.js';
export { INSPECTOR_DEFAULTS, type InspectorHandler, type InspectorOptions, inspector } from './inspector.js';
export { HTTP_SERVER_DEFAULTS, type HttpServerOptions, MAX_DELAY_MS } from './options.js';
export type { HttpHandler, HttpRoutes, NextFunction } from './routes.js';
export { HttpServer, type HttpServerEvents, serveHttp } from './serve.js';
export { parseShaping, ShapeError, type Shaping } from './shape.js';
