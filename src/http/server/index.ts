/**
 * `serveHttp`: a small HTTP server for poking at clients — the classic Go
 * "Hello, you've requested" handler, a request inspector (JSON or HTML), and
 * response shaping from query parameters, with body, header and request
 * limits on by default.
 */
export { negotiate, type Representation } from './handler.js';
export { HTTP_SERVER_DEFAULTS, type HttpServerOptions, MAX_DELAY_MS } from './options.js';
export { HttpServer, serveHttp } from './serve.js';
export { parseShaping, ShapeError, type Shaping } from './shape.js';
