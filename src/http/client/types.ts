/** Public types of netkit's HTTP/1.1 client. */

import type { TlsClientOptions } from '../../tls/client.js';
import type { ProxyOption } from '../../tunnel/index.js';

/** A request body: bytes or text sent whole, or an async iterable streamed with chunked encoding. */
export type RequestBody = string | Uint8Array | AsyncIterable<Uint8Array>;

/** Request headers as an object, or as [name, value] pairs (repeated names allowed). */
export type RequestHeaders = Record<string, string> | [string, string][];

/** RequestOptions configures one call to `request`. */
export interface RequestOptions {
  /** HTTP method; default 'GET'. */
  method?: string;
  /** Request headers. Host, and Content-Length for string/Uint8Array bodies, are added when absent. */
  headers?: RequestHeaders;
  /** Request body. */
  body?: RequestBody;
  /** Deadline for the whole request, redirects and body included, in ms; default 30000; 0 = none. */
  timeout?: number;
  /** Follow redirects: false (default) or 0 returns the 3xx; true follows up to 10; n follows up to n. */
  follow?: boolean | number;
  /** Cancels the request; it rejects with AbortError (NETKIT_ABORTED). */
  signal?: AbortSignal;
  /** Largest response body accepted, in bytes; default 64 MiB. Beyond it: BodyTooLargeError. */
  maxBodyBytes?: number;
  /**
   * How https: hops speak TLS: trusted CAs, a pin, a client certificate, the
   * name to check (see TlsClientOptions). The URL's scheme decides whether
   * TLS is used; `true`, `false` or nothing mean the defaults (the system's
   * roots).
   */
  tls?: TlsClientOptions | boolean;
  /** Certificates (PEM) to trust for https: instead of the system's roots; short for `tls.ca`. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Skip certificate verification for https: (like curl -k). Only for testing; short for `tls.insecure`. */
  insecure?: boolean;
  /**
   * proxy sends the request through a forward proxy: a URL (`http://`,
   * `socks5://`, `socks5h://`, credentials as `user:password@`), `'env'` for
   * the proxy HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY give each hop's
   * URL (read only when asked: no environment is read by default), or a
   * function of the URL. Each hop chooses anew, so a redirect to a host in
   * NO_PROXY goes direct. Every scheme goes through a tunnel (CONNECT or
   * SOCKS5); https: speaks TLS with the target inside it, so `tls` applies
   * to the target. A Unix socket URL never uses a proxy. See docs/proxies.md.
   */
  proxy?: ProxyOption;
}

/**
 * Timing of the final exchange (the last hop when redirects were followed), in
 * milliseconds from a monotonic clock. Phases: dnsMs, connectMs and tlsMs are
 * durations; firstByteMs is time from the start of the exchange to the
 * response head; downloadMs is response head to end of body; totalMs is start
 * to end of body.
 */
export interface HttpTiming {
  /** Name resolution; 0 for IP literals. */
  dnsMs: number;
  /** TCP handshake, from end of DNS (or start) to connected. */
  connectMs: number;
  /** TLS handshake, from connected to secure; 0 for http. */
  tlsMs: number;
  /** Start of the exchange to the response status line and headers (time to first byte). */
  firstByteMs: number;
  /** Response headers to the end of the body. */
  downloadMs: number;
  /** Start of the exchange to the end of the body. */
  totalMs: number;
}

/** HttpResponse is a complete response, body buffered. */
export interface HttpResponse {
  /** Final URL, after any redirects. */
  url: string;
  /** status is the status code. */
  status: number;
  /** statusText is the reason phrase as sent. */
  statusText: string;
  /** '1.1' or '1.0'. */
  httpVersion: string;
  /** Response headers as received: raw names, raw order, repeats kept. */
  headers: [string, string][];
  /** body is the whole body, as sent (not decompressed). */
  body: Buffer;
  /** Every URL that answered with a redirect that was followed, in order; `[...redirects, url]` is the chain. */
  redirects: string[];
  /** timing is the final exchange's socket-level timing. */
  timing: HttpTiming;
}
