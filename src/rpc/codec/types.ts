/**
 * The contract between the net/rpc server and client and their codecs (gob,
 * JSON). A codec owns the per-connection encoding state (gob keeps a type
 * table per direction for the life of the connection) and turns bytes into
 * whole requests or responses, as Go's ServerCodec and ClientCodec do.
 */

/** IncomingRequest is one decoded call: its header and its arguments. */
export interface IncomingRequest {
  /** serviceMethod is the method called, `Service.Method` (`Arith.Multiply`). */
  serviceMethod: string;
  /** seq identifies the call; it is echoed in the response unchanged (any JSON value for the JSON codec). */
  seq: unknown;
  /** args is the decoded argument value. */
  args: unknown;
  /** error is set when the request arrived whole but cannot be called (Go's jsonrpc: missing params). */
  error?: string;
}

/** ResponseHeader is what the server answers a call with besides the reply. */
export interface ResponseHeader {
  /** serviceMethod is the method that was called, echoed as Go's server does. */
  serviceMethod: string;
  /** seq is the request's sequence number, echoed unchanged. */
  seq: unknown;
  /** error is Go's error string; empty on success. */
  error: string;
}

/** ServerCodec reads requests and writes responses on one connection. */
export interface ServerCodec {
  /**
   * push takes the next bytes from the connection and returns every request
   * now complete, in order. It throws (GobError, RpcProtocolError, a frame
   * error) when the bytes cannot be a request; the connection must then close.
   */
  push(chunk: Buffer): IncomingRequest[];
  /**
   * encodeResponse returns the bytes of one response: the header and the
   * reply (for an error, Go's placeholder body). `replyType` is a gob type
   * for the reply, if the method declared one.
   */
  encodeResponse(header: ResponseHeader, reply: unknown, replyType?: unknown): Buffer;
}

/** IncomingResponse is one decoded response. */
export interface IncomingResponse {
  /** seq is the sequence number of the call this answers. */
  seq: number;
  /** error is the server's error string; empty on success. */
  error: string;
  /** reply is the decoded reply value (Go's placeholder when error is set). */
  reply: unknown;
}

/** ClientCodec writes requests and reads responses on one connection. */
export interface ClientCodec {
  /** name is the codec's name, for errors that tell which codec the server speaks instead. */
  readonly name?: CodecName;
  /** encodeRequest returns the bytes of one call: its header (method and sequence number) and its arguments. */
  encodeRequest(serviceMethod: string, seq: number, args: unknown, schema?: unknown): Buffer;
  /** push returns every response now complete; it throws when the bytes cannot be a response. */
  push(chunk: Buffer): IncomingResponse[];
}

/** CodecName selects a codec: Go's gob (net/rpc) or JSON (net/rpc/jsonrpc). */
export type CodecName = 'gob' | 'json';
