/**
 * Every error netkit throws or rejects with is a `NetkitError` carrying a
 * stable `code`. Callers branch on `code` (or `instanceof`), never on message
 * text. The catalogue below is mirrored in docs/errors.md; a test fails when
 * the two disagree.
 *
 * @module netkit/errors
 */

/** ERROR_CODES lists every code netkit uses, with a one-line meaning. */
export const ERROR_CODES = Object.freeze({
  /** Raised as `InvalidArgumentError`; carries `option`. */
  NETKIT_INVALID_ARGUMENT: 'An option or argument is out of range or of the wrong type.',
  /** Raised as `UnsupportedError`. */
  NETKIT_UNSUPPORTED: 'The request is valid but this platform or build cannot honour it.',
  /** Raised as `FileAccessError`; carries `path`, `cause`. */
  NETKIT_FILE_ACCESS:
    'A local file or directory that was named could not be used (missing, not permitted, not the right kind).',
  /** Raised as `AddrError`; carries `addr`. */
  NETKIT_UNKNOWN_NETWORK: 'The network name is not one of tcp, tcp4, tcp6 (or udp, udp4, udp6).',
  /** Raised as `AddrError`; carries `addr`. */
  NETKIT_ADDR_SYNTAX: 'The address is not of the form host:port (brackets or colons are wrong).',
  /** Raised as `AddrError`; carries `addr`. */
  NETKIT_MISSING_PORT: 'The address has no port.',
  /** Raised as `AddrError`; carries `addr`. */
  NETKIT_INVALID_PORT: 'The port is outside 0-65535.',
  /** Raised as `AddrError`; carries `addr`. */
  NETKIT_UNKNOWN_PORT: 'The named port is not in the services database.',
  /** Raised as `AddrError`; carries `addr`. */
  NETKIT_NO_SUITABLE_ADDRESS: 'The host has no address of the family the network asks for.',
  /** Raised as `AddrError`; carries `addr`, `cause`. */
  NETKIT_LOOKUP_FAILED: 'The host name could not be resolved.',
  /** Raised as `ListenError`; carries `address`, `cause`. */
  NETKIT_LISTEN_FAILED: 'The listener could not be bound (address in use, permission denied).',
  /** Raised as `ListenError`; carries `address`. */
  NETKIT_LISTENER_CLOSED: 'The listener was closed; no more connections will be accepted.',
  /** Raised as `ConnectionError`; carries `address`, `cause`. */
  NETKIT_DIAL_FAILED: 'The connection could not be established (refused, unreachable).',
  /** Raised as `TimeoutError`; carries `op`, `timeoutMs`. */
  NETKIT_CONNECT_TIMEOUT: 'The connection was not established within the connect timeout.',
  /** Raised as `TimeoutError`; carries `op` (`read`, `write`, `idle`). */
  NETKIT_TIMEOUT: 'A read or write deadline passed before the operation completed.',
  /** Raised as `AbortError`; carries `cause` (the signal's reason). */
  NETKIT_ABORTED: 'The operation was cancelled through its AbortSignal.',
  /** Raised as `ConnectionError`; carries `address`, `cause`. */
  NETKIT_CONNECTION_RESET: 'The peer reset the connection (RST).',
  /** Raised as `ConnectionError`; carries `address`. */
  NETKIT_CONNECTION_CLOSED: 'The connection is closed (locally, or the write side was shut).',
  /** Raised as `FrameError`; carries `limit`, `size`. */
  NETKIT_FRAME_TOO_LARGE: 'A frame exceeds the configured maximum or what its prefix can express.',
  /** Raised as `FrameError`; carries `size`. */
  NETKIT_FRAME_TRUNCATED: 'The stream ended in the middle of a frame.',
  /** Raised as `FrameError`. */
  NETKIT_FRAME_INVALID: 'The bytes cannot be a frame (varint overflow, delimiter inside a line).',
  /** Raised as `DatagramError`; carries `limit`, `size`. */
  NETKIT_DATAGRAM_TOO_LARGE:
    'A datagram is larger than UDP can carry (65,507 bytes over IPv4, 65,527 over IPv6).',
  /** Raised as `NetkitError`. */
  NETKIT_SOCKET_CLOSED: 'The UDP socket is closed.',
  /** Raised as `BodyTooLargeError`; carries `limit`, `url`. */
  NETKIT_BODY_TOO_LARGE: 'An HTTP request or response body is larger than maxBodyBytes.',
  /** Raised as `RedirectError`; carries `redirects`. */
  NETKIT_REDIRECT_FAILED:
    'An HTTP redirect could not be followed (limit reached, body not replayable, bad Location).',
  /**
   * Raised as `HttpProtocolError`; carries `address`, `received` (up to 64 bytes), `cause` (Node's parse
   * error: `code` `HPE_…`, `bytesParsed`).
   */
  NETKIT_HTTP_PROTOCOL:
    'The peer does not speak HTTP (another protocol, binary), or its HTTP response is malformed.',
  /** Raised as `GobError`; carries `offset`. */
  NETKIT_GOB_MALFORMED:
    'Bytes that are not valid gob (bad varint, length past the end, unknown or redefined type id, kind mismatch).',
  /** Raised as `GobError`; carries `limit`. */
  NETKIT_GOB_LIMIT: 'A gob message exceeds a limit (message size, nesting depth, element count, type count).',
  /** Raised as `GobError`; carries `path`. */
  NETKIT_GOB_ENCODE: 'A value cannot be encoded as gob with the given (or inferred) type.',
  /** Raised as `ServerError` (`JsonRpcError` for JSON-RPC 2.0); carries `rpcCode`, `data` (JSON-RPC 2.0). */
  NETKIT_RPC_SERVER_ERROR:
    'The RPC server answered the call with an error (the error text or JSON-RPC error).',
  /** Raised as `RpcProtocolError` (`JsonRpcProtocolError`, `JsonSyntaxError`). */
  NETKIT_RPC_PROTOCOL:
    'The RPC peer broke the protocol (bad handshake, malformed header or JSON, unknown reply).',
  /**
   * Raised as `ConnectionError`; carries `address`, `cause` (Node's error, with its `code` such as
   * `DEPTH_ZERO_SELF_SIGNED_CERT`).
   */
  NETKIT_TLS_FAILED: 'The TLS handshake failed (untrusted or mismatched certificate, protocol error).',
  /** Raised as `WsError`; carries `status`. */
  NETKIT_WS_HANDSHAKE:
    'The WebSocket upgrade was refused or broken (an HTTP status instead of 101, no agreed subprotocol).',
  /** Raised as `PoolError`. */
  NETKIT_POOL_CLOSED: 'The pool is draining or drained; it hands out nothing more.',
  /** Raised as `PoolError`. */
  NETKIT_POOL_EXHAUSTED: 'The pool has maxWaiting acquires queued already; this one is refused at once.',
  /** Raised as `PoolError`. */
  NETKIT_POOL_MISUSE:
    'A resource was released or destroyed twice, or given to a pool it was not borrowed from.',
  /** Raised as `ProxyError`; carries `reason`. */
  NETKIT_PROXY_HEADER:
    'A PROXY protocol header is malformed, missing from a trusted peer, or did not arrive in time.',
  /** Raised as `TunnelError`; carries `proxy`, `target`, `status` (HTTP), `reply` (SOCKS5). */
  NETKIT_TUNNEL_FAILED:
    'The forward proxy (HTTP CONNECT or SOCKS5) refused to open a tunnel to the target, or could not reach it.',
  /** Raised as `TunnelError`; carries `proxy`, `target`, `status` (HTTP), `reply` (SOCKS5). */
  NETKIT_TUNNEL_AUTH: 'The forward proxy requires credentials, or refused the ones given.',
  /** Raised as `TunnelError`; carries `proxy`, `target`, `limit`. */
  NETKIT_TUNNEL_PROTOCOL:
    "The forward proxy's reply is malformed, over its size limit, or was cut short; no tunnel was opened.",
  /** Raised as `WsError`; carries `closeCode`, `reason`. */
  NETKIT_WS_CLOSED:
    'The WebSocket closed abnormally (no close frame, or a policy, size or protocol close code).',
  /** Raised as `TransferError`; carries `path`. */
  NETKIT_TRANSFER_PATH:
    'A transferred path is unsafe (traversal, absolute or drive path, control characters, over-long, through a symlink).',
  /** Raised as `TransferError`; carries `path`. */
  NETKIT_TRANSFER_EXISTS: 'The destination file exists and neither overwrite nor skip-existing was chosen.',
  /** Raised as `TransferError`; carries `path`. */
  NETKIT_TRANSFER_CHECKSUM: "The received file's SHA-256 differs from the sender's; the file was not kept.",
  /** Raised as `TransferError`; carries `path`. */
  NETKIT_TRANSFER_PROTOCOL:
    'The transfer peer broke the protocol (wrong magic or version, bad frame, more bytes than announced).',
  /** Raised as `TransferError`. */
  NETKIT_TRANSFER_AUTH: 'The transfer code is wrong, or one side uses a code and the other does not.',
  /** Raised as `TransferError`; carries `path`. */
  NETKIT_TRANSFER_LIMIT: 'A file or a transfer exceeds a receiver limit (file size, number of entries).',
  /** Raised as `TransferError`; carries `path`, `cause`. */
  NETKIT_TRANSFER_WRITE: 'The receiver could not write a file (disk full, permission denied).',
  /** Raised as `TransferError`; carries `path`, `cause`. */
  NETKIT_TRANSFER_SOURCE: 'A file to send could not be read, or changed while it was being sent.',
  /** Raised as `TransferError`. */
  NETKIT_TRANSFER_BUSY: 'The receiver is serving as many transfers as it allows; try again later.',
  /** Raised as `TransferError`; carries `path` (the file cut short). */
  NETKIT_TRANSFER_STOPPED: 'The receiver was stopped mid-transfer; a partial file stays for a resume.',
  /** Raised as `TransferError`. */
  NETKIT_TRANSFER_INCOMPLETE:
    'The sender left before the end of its transfer; finished files are kept, a partial one stays for a resume.',
  /** Raised as `TransferError`; carries `path`. */
  NETKIT_TRANSFER_INTEGRITY:
    'An encrypted record failed authentication: bytes were changed, dropped, replayed or reordered on the path.',
  /** Raised as `RendezvousError`; carries `room`. */
  NETKIT_RENDEZVOUS_FULL: 'The rendezvous room already has a peer in that role, or is already paired.',
  /** Raised as `RendezvousError`; carries `room`. */
  NETKIT_RENDEZVOUS_LIMIT:
    'The rendezvous holds maxRooms rooms already, or a room reached its byte or time limit.',
  /** Raised as `RendezvousError`; carries `room`. */
  NETKIT_RENDEZVOUS_EXPIRED: 'No peer joined the rendezvous room before it expired.',
  /** Raised as `RendezvousError`; carries `room`. */
  NETKIT_RENDEZVOUS_PROTOCOL:
    'A rendezvous client or server broke the rendezvous protocol (magic, join frame).',
  /** Reported as the `code` of a relay `fail` event; nothing is thrown. */
  NETKIT_RELAY_LIMIT: 'The relay carries maxConns connections already; a new client was reset.',
  /** Reported as the `code` of a relay `fail` event; nothing is thrown. */
  NETKIT_RELAY_REFUSED: 'A refuse fault reset the new connection before any target was dialled.',
  /** Raised as `ExecError`; carries `program`. */
  NETKIT_EXEC_LIMIT: 'maxChildren exec: programs are running already; the connection was not given one.',
  /** Raised as `ExecError`; carries `program`, `cause`. */
  NETKIT_EXEC_FAILED: 'The exec: program could not be started (not found, not executable).',
});

/** ErrorCode is the union of every stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** NetkitError is the base of every error netkit produces; `code` is stable. */
export class NetkitError extends Error {
  /** code is the stable code: branch on it, never on the message. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** name is the class's name (`TimeoutError`), so stack traces and logs say which error it is. */
  override get name(): string {
    return this.constructor.name;
  }
}

/** InvalidArgumentError names the option or argument that was rejected. */
export class InvalidArgumentError extends NetkitError {
  /** option is the option or argument that was rejected (`maxFrameBytes`, `keepAlive.idle`). */
  readonly option: string;
  constructor(option: string, message: string) {
    super('NETKIT_INVALID_ARGUMENT', `${option}: ${message}`);
    this.option = option;
  }
}

/** UnsupportedError says what cannot be done here and why. */
export class UnsupportedError extends NetkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETKIT_UNSUPPORTED', message, options);
  }
}

/**
 * FileAccessError is a local file or directory named by the caller that
 * could not be used; `path` is the name given, `cause` the system error.
 */
export class FileAccessError extends NetkitError {
  /** path is the file or directory as the caller named it. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('NETKIT_FILE_ACCESS', message, options);
    this.path = path;
  }
}

/**
 * AddrError mirrors Go's `*net.AddrError` and friends: `addr` is the input
 * that failed, and the message is Go's text for the same input.
 */
export class AddrError extends NetkitError {
  /** addr is the input that failed, as given. */
  readonly addr: string;
  constructor(code: ErrorCode, message: string, addr: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.addr = addr;
  }
}

/** TimeoutError is a deadline or timeout expiring; `op` says which operation. */
export class TimeoutError extends NetkitError {
  /** op is the operation that timed out (`connect`, `read`, `write`, `idle`…). */
  readonly op: string;
  /** timeoutMs is the timeout that expired, when one was configured. */
  readonly timeoutMs: number | undefined;
  constructor(
    code: 'NETKIT_TIMEOUT' | 'NETKIT_CONNECT_TIMEOUT',
    op: string,
    message: string,
    timeoutMs?: number,
  ) {
    super(code, message);
    this.op = op;
    this.timeoutMs = timeoutMs;
  }
}

/** AbortError is an operation cancelled by its AbortSignal; `cause` is the signal's reason. */
export class AbortError extends NetkitError {
  constructor(op: string, reason?: unknown) {
    super('NETKIT_ABORTED', `${op} aborted`, { cause: reason });
  }
}

/** ConnectionError covers dial and TLS failures, resets and use of a closed connection. */
export class ConnectionError extends NetkitError {
  /** address is the peer's address, when it is known. */
  readonly address: string | undefined;
  constructor(
    code: 'NETKIT_DIAL_FAILED' | 'NETKIT_TLS_FAILED' | 'NETKIT_CONNECTION_RESET' | 'NETKIT_CONNECTION_CLOSED',
    message: string,
    address?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.address = address;
  }
}

/** ListenError is a failure to bind, or use of a closed listener. */
export class ListenError extends NetkitError {
  /** address is the address that could not be bound, or the closed listener's. */
  readonly address: string | undefined;
  constructor(
    code: 'NETKIT_LISTEN_FAILED' | 'NETKIT_LISTENER_CLOSED',
    message: string,
    address?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.address = address;
  }
}

/** FrameError is a framing failure; `limit` and `size` are set for oversize frames. */
export class FrameError extends NetkitError {
  /** limit is the maximum frame size configured, for NETKIT_FRAME_TOO_LARGE. */
  readonly limit: number | undefined;
  /** size is the frame's size as its prefix announced it (a bigint when over 2^53). */
  readonly size: number | bigint | undefined;
  constructor(
    code: 'NETKIT_FRAME_TOO_LARGE' | 'NETKIT_FRAME_TRUNCATED' | 'NETKIT_FRAME_INVALID',
    message: string,
    details: { limit?: number; size?: number | bigint } = {},
  ) {
    super(code, message);
    this.limit = details.limit;
    this.size = details.size;
  }
}

/** DatagramError is a datagram refused for its size; `limit` and `size` say by how much. */
export class DatagramError extends NetkitError {
  /** limit is the largest payload allowed to that destination. */
  readonly limit: number;
  /** size is the datagram's size. */
  readonly size: number;
  constructor(message: string, details: { limit: number; size: number }) {
    super('NETKIT_DATAGRAM_TOO_LARGE', message);
    this.limit = details.limit;
    this.size = details.size;
  }
}

/**
 * WsError is a WebSocket failure: a refused upgrade (`status` is the HTTP
 * status the server answered) or an abnormal close (`closeCode` and
 * `reason` are what the close frame said; 1006 when there was none).
 */
export class WsError extends NetkitError {
  /** status is the HTTP status of a refused upgrade. */
  readonly status: number | undefined;
  /** closeCode is the close frame's code (1006 when there was none). */
  readonly closeCode: number | undefined;
  /** reason is the close frame's reason text. */
  readonly reason: string | undefined;
  constructor(
    code: 'NETKIT_WS_HANDSHAKE' | 'NETKIT_WS_CLOSED',
    message: string,
    details: { status?: number; closeCode?: number; reason?: string; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.status = details.status;
    this.closeCode = details.closeCode;
    this.reason = details.reason;
  }
}

/** PoolError is a pool refusing an operation: closed, queue full, or misuse. */
export class PoolError extends NetkitError {
  constructor(code: 'NETKIT_POOL_CLOSED' | 'NETKIT_POOL_EXHAUSTED' | 'NETKIT_POOL_MISUSE', message: string) {
    super(code, message);
  }
}

/** ProxyError is a bad or missing PROXY protocol header; `reason` says which rule it broke. */
export class ProxyError extends NetkitError {
  /**
   * reason names the rule the header broke (`bad-signature`, `v1-too-long`, `closed`…), for logs and metrics.
   */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('NETKIT_PROXY_HEADER', message);
    this.reason = reason;
  }
}

/** TunnelCode is the codes a forward-proxy tunnel fails with. */
export type TunnelCode = 'NETKIT_TUNNEL_FAILED' | 'NETKIT_TUNNEL_AUTH' | 'NETKIT_TUNNEL_PROTOCOL';

/**
 * TunnelError is a forward proxy that did not open the tunnel asked for.
 * `proxy` is the proxy's URL without its password, `target` the host:port
 * asked for; `status` is the HTTP proxy's status (407, 502…), `reply` the
 * SOCKS5 reply code (0x05: connection refused by the target), `limit` the
 * byte limit a reply went over.
 */
export class TunnelError extends NetkitError {
  /** proxy is the proxy's URL, without its password. */
  readonly proxy: string;
  /** target is the `host:port` the tunnel was asked for. */
  readonly target: string;
  /** status is the HTTP proxy's status (407, 502…). */
  readonly status: number | undefined;
  /** reply is the SOCKS5 reply code (0x05: connection refused by the target). */
  readonly reply: number | undefined;
  /** limit is the byte limit a reply went over. */
  readonly limit: number | undefined;
  constructor(
    code: TunnelCode,
    message: string,
    details: {
      proxy: string;
      target: string;
      status?: number;
      reply?: number;
      limit?: number;
      cause?: unknown;
    },
  ) {
    super(code, message, { cause: details.cause });
    this.proxy = details.proxy;
    this.target = details.target;
    this.status = details.status;
    this.reply = details.reply;
    this.limit = details.limit;
  }
}

/** TransferCode is the codes a file transfer fails with. */
export type TransferCode = Extract<ErrorCode, `NETKIT_TRANSFER_${string}`>;

/**
 * TransferError is a file transfer that was refused or failed. `path` is the
 * file concerned (as sent, possibly unsafe: print it with safeText), and
 * `remote` is true when the other side reported the error.
 */
export class TransferError extends NetkitError {
  /** path is the file concerned, as sent (possibly unsafe: print it with safeText). */
  readonly path: string | undefined;
  /** remote is true when the other side reported the error. */
  readonly remote: boolean;
  constructor(
    code: TransferCode,
    message: string,
    details: { path?: string; remote?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.path = details.path;
    this.remote = details.remote ?? false;
  }
}

/** isNetkitError narrows `err` to a NetkitError, optionally of one code. */
export function isNetkitError(err: unknown, code?: ErrorCode): err is NetkitError {
  return err instanceof NetkitError && (code === undefined || err.code === code);
}

/** RendezvousCode is the codes a rendezvous refuses or fails with. */
export type RendezvousCode = Extract<ErrorCode, `NETKIT_RENDEZVOUS_${string}`>;

/** RendezvousError is a rendezvous refusal or failure; `room` names the room concerned. */
export class RendezvousError extends NetkitError {
  /** room is the room concerned, when there is one. */
  readonly room: string | undefined;
  /** remote is true when the rendezvous reported the error (the client only relays it). */
  readonly remote: boolean;
  constructor(
    code: RendezvousCode,
    message: string,
    details: { room?: string; remote?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.room = details.room;
    this.remote = details.remote ?? false;
  }
}

/** ExecCode is the codes an `exec:` endpoint fails with. */
export type ExecCode = 'NETKIT_EXEC_LIMIT' | 'NETKIT_EXEC_FAILED';

/**
 * ExecError is an exec endpoint that could not run its program: too many
 * children already (`limit` is maxChildren), or the program could not be
 * started (`program` is argv[0], `cause` the system error).
 */
export class ExecError extends NetkitError {
  /** program is argv[0] of the program that was to run, when known. */
  readonly program: string | undefined;
  /** limit is maxChildren, for NETKIT_EXEC_LIMIT. */
  readonly limit: number | undefined;
  constructor(
    code: ExecCode,
    message: string,
    details: { program?: string; limit?: number; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.program = details.program;
    this.limit = details.limit;
  }
}
