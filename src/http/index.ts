/**
 * netkit/http: a debugging HTTP server (hello route, request inspector, response shaping) and a client with timings.
 *
 * @module netkit/http
 */

export { escapeHtml } from '../internal/html.js';
export {
  BodyTooLargeError,
  FETCH_DEFAULTS,
  type FetchResponse,
  type FetchTiming,
  fetch,
  HttpProtocolError,
  type HttpResponse,
  type HttpTiming,
  type NetkitFetchOptions,
  REQUEST_DEFAULTS,
  RedirectError,
  type RequestBody,
  type RequestHeaders,
  type RequestOptions,
  request,
} from './client/index.js';
export { type BodyInfo, formatRequest, type RequestInfo, type TlsInfo } from './inspect.js';
export {
  HTTP_SERVER_DEFAULTS,
  type HttpHandler,
  type HttpRoutes,
  HttpServer,
  type HttpServerEvents,
  type HttpServerOptions,
  INSPECTOR_DEFAULTS,
  type InspectorHandler,
  type InspectorOptions,
  inspector,
  type NextFunction,
  serveHttp,
} from './server/index.js';
