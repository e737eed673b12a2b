/**
 * What a transfer reports while it runs and when it ends. The library only
 * emits these; the CLI turns them into bars, lines or JSON.
 */

/** TransferEvent is one step of a transfer, as either side sees it. */
export type TransferEvent =
  | {
      /** A file is about to move; `offset` > 0 when it resumes. */
      type: 'file-start';
      /** path is the file's relative path, as sent (print it with safeText). */
      path: string;
      /** size is the file's whole size in bytes. */
      size: number;
      /** offset is where this run starts: the bytes the receiver already had. */
      offset: number;
    }
  | {
      /** Emitted per chunk; `bytes` is the position reached in the file (resumed prefix included). */
      type: 'progress';
      /** path is the file's relative path. */
      path: string;
      /** bytes is the position reached in the file. */
      bytes: number;
      /** size is the file's whole size in bytes. */
      size: number;
    }
  | {
      /** A file is done: moved (`sent` / `received`) or left alone because it exists (`skipped`, with a `reason`). */
      type: 'file-end';
      /** path is the file's relative path. */
      path: string;
      /** size is the file's whole size in bytes. */
      size: number;
      /** sentBytes counts the bytes that crossed the wire in this run. */
      sentBytes: number;
      /** resumedFrom is the offset this run started at (0 for a fresh file). */
      resumedFrom: number;
      /** status says what happened to the file. */
      status: 'sent' | 'received' | 'skipped';
      /** reason says why a skipped file was left alone: one of SKIP_REASONS. */
      reason?: string;
    }
  | {
      /**
       * (Receiver.) A sender's code did not match: `failures` wrong codes in a
       * row, and each handshake now waits `delayMs` (0 until a few have failed).
       */
      type: 'wrong-code';
      /** failures counts wrong codes in a row. */
      failures: number;
      /** delayMs is how long each handshake now waits. */
      delayMs: number;
    };

/**
 * SKIP_REASONS are why the receiver leaves a file alone: `received` when
 * what has the name is that file as an earlier transfer left it (same size
 * and time: an interrupted transfer sent again), `exists` when it is some
 * other file that the receiver keeps (--skip-existing).
 */
export const SKIP_REASONS = Object.freeze({
  exists: 'exists',
  received: 'already received: same size and time',
});

/** TransferSummary is one transfer (one connection) from one side. */
export interface TransferSummary {
  /** role says which side this summary is from. */
  role: 'send' | 'recv';
  /** peer is the other side's address, "ip:port" (`unix:@` for a Unix socket's client). */
  peer: string;
  /** subject is the sender's client certificate subject (`CN=alice`) when mutual TLS verified one (receiver only). */
  subject?: string;
  /** files counts files moved (skipped ones not included). */
  files: number;
  /** skipped counts files left alone, alreadyReceived included. */
  skipped: number;
  /** alreadyReceived counts the skipped files the receiver already had whole (same size and time). */
  alreadyReceived: number;
  /** dirs counts directories created (receiver) or announced (sender). */
  dirs: number;
  /** bytes is the total size of the files moved, resumed prefixes included. */
  bytes: number;
  /** sentBytes counts file bytes that crossed the wire in this run. */
  sentBytes: number;
  /** seconds is how long the transfer took. */
  seconds: number;
  /** ok is true when the transfer ended as intended; `error` says why not. */
  ok: boolean;
  /** error is why the transfer failed, when it did. */
  error?: {
    /** code is the NetkitError code (`NETKIT_TRANSFER_AUTH`…). */
    code: string;
    /** message is the error's message. */
    message: string;
  };
}

/** newSummary is a transfer's summary before anything moved. */
export function newSummary(role: 'send' | 'recv', peer: string): TransferSummary {
  return {
    role,
    peer,
    files: 0,
    skipped: 0,
    alreadyReceived: 0,
    dirs: 0,
    bytes: 0,
    sentBytes: 0,
    seconds: 0,
    ok: false,
  };
}

/** finished is the event for a file moved in full from `resumedFrom` on. */
export function finished(
  path: string,
  size: number,
  resumedFrom: number,
  status: 'sent' | 'received',
): TransferEvent {
  return { type: 'file-end', path, size, sentBytes: size - resumedFrom, resumedFrom, status };
}

/** failure is what a summary records of the error that ended a transfer. */
export function failure(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : 'NETKIT_TRANSFER_PROTOCOL',
    message: String(e.message ?? err),
  };
}

/**
 * skipped counts a file the receiver left alone in `summary` and returns
 * its event: `why` is `received` when the receiver already had it whole,
 * `exists` when it keeps another file by that name. Call it before
 * `onEvent?.()`, never inside: without a listener that call would not
 * evaluate its argument, and the file would go uncounted.
 */
export function skipped(
  summary: TransferSummary,
  path: string,
  size: number,
  why: keyof typeof SKIP_REASONS,
): TransferEvent {
  summary.skipped++;
  if (why === 'received') summary.alreadyReceived++;
  const reason = SKIP_REASONS[why];
  return { type: 'file-end', path, size, sentBytes: 0, resumedFrom: 0, status: 'skipped', reason };
}
