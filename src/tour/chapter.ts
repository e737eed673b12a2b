/**
 * A tour chapter is one file in src/tour/chapters/ whose default export is
 * a Chapter; the tour finds chapters by listing that folder, so adding one
 * is adding one file. File names start with a number that sets the order.
 */
export interface Chapter {
  /** title is a short heading, e.g. "Sticky packets". */
  readonly title: string;
  /** run performs the chapter on loopback, narrating through `t`; it throws if what it shows did not happen. */
  run(t: TourContext): Promise<void>;
}

/** TourContext is how a chapter narrates and checks. */
export interface TourContext {
  /** say prints an indented line of narration. */
  say(text: string): void;
  /** check records a fact; when `ok` is false the chapter fails with `what`. */
  check(ok: boolean, what: string): void;
  /** fact stores a value for --json output. */
  fact(name: string, value: unknown): void;
  /** signal aborts on Ctrl-C. */
  readonly signal: AbortSignal;
}

/** TourCheckError is thrown by TourContext.check when a chapter's claim did not hold. */
export class TourCheckError extends Error {}
