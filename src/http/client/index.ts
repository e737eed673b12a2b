/** netkit/http/client: HTTP/1.1 requests on node:http/node:https with socket-level timings, as request() and as fetch(). */
export { BodyTooLargeError, HttpProtocolError, RedirectError } from './errors.js';
export { type FetchResponse, type FetchTiming, fetch } from './fetch.js';
export { FETCH_DEFAULTS, type NetkitFetchOptions } from './fetch-options.js';
export { REQUEST_DEFAULTS } from './options.js';
export { request } from './request.js';
export type {
  HttpResponse,
  HttpTiming,
  RequestBody,
  RequestHeaders,
  RequestOptions,
} from './types.js';
