/**
 * The shapes the relay's parts share: the two directions of a connection,
 * one direction's writer (Flow) that faults wrap, the handle a fault uses
 * on the whole connection, and the summary of a finished connection.
 */

/**
 * Stream names a direction with Toxiproxy's words: `upstream` is client →
 * target, `downstream` is target → client.
 */
export type Stream = 'upstream' | 'downstream';

/**
 * Flow is one direction's writer as the pipe sees it: the target's socket
 * itself, or a fault in front of it. It has the shape of a Writable's
 * write/end so that backpressure stays one rule: write() returning false
 * pauses the source until `ondrain`.
 */
export interface Flow {
  /** write passes `chunk` on; false asks the caller to pause its source until ondrain runs. */
  write(chunk: Buffer): boolean;
  /** end passes the source's FIN on, after every chunk written before it. */
  end(): void;
  /** ondrain is set by the caller and run once each time a write that returned false can be followed by more. */
  ondrain: (() => void) | undefined;
  /** destroy drops what is pending (queued chunks, timers); the connection is gone. */
  destroy(): void;
}

/** ConnControl is what a fault may do to the whole connection. */
export interface ConnControl {
  /** reset closes both sides with RST now (Toxiproxy's reset_peer). */
  reset(reason: string): void;
  /** close closes both sides with FIN now, dropping what is queued (Toxiproxy's limit_data). */
  close(reason: string): void;
}

/** CloseKind is how a side ended: `fin` (orderly), `rst` (reset), `error` (another failure). */
export type CloseKind = 'fin' | 'rst' | 'error';

/** Closer says who ended a connection first: one of its sides, or the relay (timeout, fault, shutdown). */
export type Closer = 'client' | 'target' | 'relay';

/** ConnSummary describes a finished relayed connection. */
export interface ConnSummary {
  /** id numbers connections in the order the relay accepted them, from 1. */
  readonly id: number;
  /** proxy is the name of the proxy that carried it. */
  readonly proxy: string;
  /** client is the client's address as text (`127.0.0.1:50312`, `unix`, `stdin`). */
  readonly client: string;
  /** target is the target it was relayed to, as given (`127.0.0.1:8330`), or '' when none was reached. */
  readonly target: string;
  /** up is the bytes relayed client → target; down is target → client. */
  readonly up: number;
  /** down is the bytes relayed target → client. */
  readonly down: number;
  /** ms is how long the connection lasted. */
  readonly ms: number;
  /** first is who closed first; how is how that side closed. */
  readonly first: Closer;
  /** how is how the side that closed first closed: FIN, RST or an error. */
  readonly how: CloseKind;
  /** reason is set when the relay closed it or a side failed: `idle timeout`, `dial …: connection refused`, a fault. */
  readonly reason?: string;
}
