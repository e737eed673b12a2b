import { NetkitError } from '../../errors.js';

/** BodyTooLargeError: the response body exceeded `maxBodyBytes`; reading stopped (NETKIT_BODY_TOO_LARGE). */
export class BodyTooLargeError extends NetkitError {
  readonly limit: number;
  readonly url: string;
  constructor(url: string, limit: number) {
    super(
      'NETKIT_BODY_TOO_LARGE',
      `response body from ${url} exceeds maxBodyBytes (${limit} bytes); raise maxBodyBytes or fetch less`,
    );
    this.limit = limit;
    this.url = url;
  }
}

/**
 * RedirectError: a redirect could not be followed — the limit was reached,
 * a streamed body cannot be sent again, or Location is not an http(s) URL
 * (NETKIT_REDIRECT_FAILED).
 */
export class RedirectError extends NetkitError {
  /** URLs that answered with a redirect, in order, including the one that failed. */
  readonly redirects: string[];
  constructor(message: string, redirects: string[]) {
    super('NETKIT_REDIRECT_FAILED', message);
    this.redirects = redirects;
  }
}
