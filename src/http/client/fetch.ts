import { TimeoutError } from '../../errors.js';
import { deadline } from './deadline.js';
import { HttpProtocolError, RedirectError } from './errors.js';
import { type Hop, type HopHead, hostLabel, openExchange } from './exchange.js';
import { bodyStream, decodeBody } from './fetch-body.js';
import { type NetkitFetchOptions, planFetch } from './fetch-options.js';
import { fetchRedirect, hopUrl, REDIRECT_STATUSES } from './fetch-redirect.js';
import type { HttpTiming } from './types.js';

/**
 * FetchTiming is the timing of the exchange that produced a fetch Response
 * (the last hop after redirects), in milliseconds from a monotonic clock,
 * as HttpTiming. `downloadMs` and `totalMs` are undefined until the body has
 * been read to its end; the object is filled in then.
 */
export interface FetchTiming extends Pick<HttpTiming, 'dnsMs' | 'connectMs' | 'tlsMs' | 'firstByteMs'> {
  /** Response headers to the end of the body; undefined until the body ends. */
  downloadMs: number | undefined;
  /** Start of the last exchange to the end of the body; undefined until the body ends. */
  totalMs: number | undefined;
}

/** FetchResponse is the WHATWG Response netkit's fetch resolves with, plus its timing. */
export interface FetchResponse extends Response {
  /** timing is the socket-level timing of the exchange behind this response. */
  readonly timing: FetchTiming;
  /** clone is Response's clone (the body teed), keeping `url`, `redirected` and the same `timing` object. */
  clone(): FetchResponse;
}

/** REASON_PHRASE is what a Response's statusText may hold (RFC 9112, 4): node:http lets DEL and other controls through. */
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Statuses whose Response has no body (https://fetch.spec.whatwg.org/#null-body-status). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * fetch is the fetch standard's function on netkit's HTTP/1.1 client: it
 * resolves with a real Response (status, headers, url, redirected, a body
 * streamed from the socket) once the response head arrives, and adds
 * netkit's options: `timeout` (the whole request, body included),
 * `maxBodyBytes`, TLS (`tls`, `ca`, `insecure`: CA, pin, servername, client
 * certificate) and `maxRedirects`, and socket-level `timing` on the
 * response. Aborting `signal` rejects (or errors the body) with
 * `signal.reason`, as fetch does; netkit's own failures keep their typed
 * errors (NETKIT_TIMEOUT, NETKIT_BODY_TOO_LARGE, NETKIT_TLS_FAILED,
 * NETKIT_DIAL_FAILED, NETKIT_REDIRECT_FAILED…); the standard part of `init`
 * fails as fetch does, with TypeError. Each call uses fresh connections.
 */
export async function fetch(
  input: string | URL | Request,
  init?: RequestInit & NetkitFetchOptions,
): Promise<FetchResponse> {
  const plan = await planFetch(input, init);
  const { options: o, signal } = plan;
  if (signal?.aborted) throw signal.reason;
  const {
    signal: hopSignal,
    timer,
    settle,
  } = deadline(
    signal,
    o.timeout,
    (reason) => reason,
    () =>
      new TimeoutError(
        'NETKIT_TIMEOUT',
        'fetch',
        `fetch ${o.method} ${hopUrl(first)} timed out after ${o.timeout} ms`,
        o.timeout,
      ),
  );
  // Spread, so whatever request() validates for its hops (a proxy) reaches fetch's hops too.
  const first: Hop = { ...o, signal: hopSignal };
  // The open socket keeps the process alive while it matters; a body nobody reads should not.
  timer?.unref();

  try {
    let hop: Hop = first;
    const redirects: string[] = [];
    for (;;) {
      const head = await openExchange(hop);
      const location = head.headers.find(([n]) => n.toLowerCase() === 'location')?.[1];
      if (plan.redirect === 'manual' || !REDIRECT_STATUSES.has(head.status) || location === undefined) {
        return respond(head, hop, redirects.length > 0, settle);
      }
      head.cancel(new RedirectError('redirect followed', [...redirects]));
      redirects.push(hopUrl(hop));
      if (plan.redirect === 'error') {
        throw new RedirectError(`${hopUrl(hop)} redirects (${head.status}) and redirect is 'error'`, [
          ...redirects,
        ]);
      }
      if (redirects.length > plan.maxRedirects) {
        throw new RedirectError(`too many redirects (more than ${plan.maxRedirects}) from ${redirects[0]}`, [
          ...redirects,
        ]);
      }
      hop = fetchRedirect(hop, head.status, location, plan.streamed, redirects);
    }
  } catch (err) {
    settle();
    throw err;
  }
}

/**
 * abandoned closes the connection of a body that can no longer be read: a
 * Response dropped with its body unread (undici does the same). Nothing else
 * would close it before `timeout`, and nothing at all with `timeout: 0`, so
 * each such fetch held a socket on both ends. The held value must not refer
 * to the stream; after the body ended or failed, cancel does nothing.
 */
const abandoned = new FinalizationRegistry<{ cancel: (reason: Error) => void; settle: () => void }>(
  ({ cancel, settle }) => {
    cancel(new Error('the response body was garbage collected unread'));
    settle();
  },
);

/** respond wraps an exchange's head and streaming body in a Response. */
function respond(head: HopHead, hop: Hop, redirected: boolean, settle: () => void): FetchResponse {
  const timing: FetchTiming = { ...head.phases, downloadMs: undefined, totalMs: undefined };
  const ended = () => {
    settle();
    const t = head.timing();
    if (t !== undefined) Object.assign(timing, { downloadMs: t.downloadMs, totalMs: t.totalMs });
  };
  const address = hostLabel(hop.url, hop.socketPath);
  // What Response's constructor would refuse with a bare TypeError, leaving the connection open.
  const unfit =
    head.status < 200 || head.status > 599
      ? `status ${head.status} is outside 200–599`
      : REASON_PHRASE.test(head.statusText)
        ? undefined
        : `the reason phrase ${JSON.stringify(head.statusText)} holds control characters`;
  if (unfit !== undefined) {
    const err = new HttpProtocolError(
      `http ${address}: ${unfit}, which a Response cannot carry`,
      address,
      Buffer.alloc(0),
    );
    head.cancel(err);
    settle();
    throw err;
  }
  const headers = new Headers();
  for (const [name, value] of head.headers) headers.append(name, value);
  const url = hopUrl(hop);
  let body: ReadableStream<Uint8Array> | null = null;
  if (hop.method === 'HEAD' || NULL_BODY.has(head.status)) {
    // No body to hand out, but reading the (empty) rest ends the exchange and its timing.
    drain(head.body).then(ended, settle);
  } else {
    const encoding = headers.get('content-encoding');
    let decoded: AsyncIterable<Buffer>;
    try {
      decoded = decodeBody(head.body, encoding, address);
    } catch (err) {
      // Too many codings to decode: the body is not wanted, and fetch rejects (the caller settles).
      head.cancel(err as Error);
      throw err;
    }
    body = bodyStream(decoded, {
      limit: hop.maxBodyBytes,
      url,
      onEnd: ended,
      onFail: settle,
      onCancel: (reason) => {
        head.cancel(reason instanceof Error ? reason : new Error(String(reason)));
        settle();
      },
    });
    abandoned.register(body, { cancel: head.cancel, settle });
  }
  const res = new Response(body, { status: head.status, statusText: head.statusText, headers });
  return dressed(res, url, redirected, timing);
}

/** dressed gives a Response the properties fetch sets from its internal state, and netkit's timing. */
function dressed(res: Response, url: string, redirected: boolean, timing: FetchTiming): FetchResponse {
  const clone = res.clone.bind(res);
  Object.defineProperties(res, {
    url: { value: url, enumerable: true },
    redirected: { value: redirected, enumerable: true },
    type: { value: 'basic', enumerable: true },
    timing: { value: timing, enumerable: true },
    clone: { value: () => dressed(clone(), url, redirected, timing) },
  });
  return res as FetchResponse;
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) {
    // A HEAD, 204 or 304 response has no body bytes; this only waits for the end.
  }
}
