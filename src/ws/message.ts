/**
 * WsMessage is one received WebSocket message. `data` holds its bytes as
 * they arrived (text messages are already checked to be valid UTF-8 by the
 * protocol layer); `text()` decodes them.
 */
export interface WsMessage {
  /** data is the message's bytes as they arrived. */
  readonly data: Buffer;
  /** binary is true for a binary message, false for text. */
  readonly binary: boolean;
  /** text decodes `data` as UTF-8. */
  text(): string;
}

class Message implements WsMessage {
  readonly data: Buffer;
  readonly binary: boolean;
  constructor(data: Buffer, binary: boolean) {
    this.data = data;
    this.binary = binary;
  }
  text(): string {
    return this.data.toString('utf8');
  }
}

/** toMessage wraps what `ws` hands a 'message' listener (a Buffer with 'nodebuffer'). */
export function toMessage(data: Buffer | ArrayBuffer | Buffer[], binary: boolean): WsMessage {
  const buf = Buffer.isBuffer(data)
    ? data
    : Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.from(data as ArrayBuffer);
  return new Message(buf, binary);
}

/** Sendable is what send() takes: text, or bytes (sent as binary unless told otherwise). */
export type Sendable = string | Uint8Array;

/** CLOSE names the close codes netkit uses (RFC 6455 §7.4.1). */
export const CLOSE = Object.freeze({
  /** The conversation ended as intended. */
  NORMAL: 1000,
  /** The server is shutting down, or the client leaving. */
  GOING_AWAY: 1001,
  /** The peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** The close frame carried no code (never sent, only reported). */
  NO_STATUS: 1005,
  /** The connection dropped without a close frame (never sent, only reported). */
  ABNORMAL: 1006,
  /** A policy was broken; netkit uses it for a peer that does not read its messages. */
  POLICY_VIOLATION: 1008,
  /** A message was larger than maxPayload. */
  TOO_BIG: 1009,
  /** The server hit an error it could not handle. */
  INTERNAL_ERROR: 1011,
});

/** isNormalClose is true for the codes that end a conversation without error. */
export function isNormalClose(code: number): boolean {
  return code === CLOSE.NORMAL || code === CLOSE.GOING_AWAY || code === CLOSE.NO_STATUS;
}

/**
 * closeCodeOf reads the close code `ws` attaches to a protocol error (1009
 * oversize, 1007 bad UTF-8, 1002 bad frame) under a private symbol; it is
 * the code `ws` sent the peer, since its 'close' event then says 1006.
 */
export function closeCodeOf(err: Error): number | undefined {
  for (const sym of Object.getOwnPropertySymbols(err)) {
    if (sym.description === 'status-code') {
      const v = (err as unknown as Record<symbol, unknown>)[sym];
      return typeof v === 'number' ? v : undefined;
    }
  }
  return undefined;
}
