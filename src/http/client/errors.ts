/**
 * Errors specific to the HTTP client that have no NetkitError code yet. They
 * are not NetkitErrors; branch on `instanceof` or `name`.
 */

/** BodyTooLargeError: the response body exceeded `maxBodyBytes`; reading stopped. */
export class BodyTooLargeError extends RangeError {
  readonly limit: number;
  readonly url: string;
  constructor(url: string, limit: number) {
    super(`response body from ${url} exceeds maxBodyBytes (${limit} bytes)`);
    this.limit = limit;
    this.url = url;
  }

  override get name(): string {
    return 'BodyTooLargeError';
  }
}

/** RedirectError: a redirect could not be followed (limit reached, body not replayable, bad Location). */
export class RedirectError extends Error {
  /** URLs that answered with a redirect, in order, including the one that failed. */
  readonly redirects: string[];
  constructor(message: string, redirects: string[]) {
    super(message);
    this.redirects = redirects;
  }

  override get name(): string {
    return 'RedirectError';
  }
}
