import { constants, createPrivateKey } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import { InvalidArgumentError } from '../errors.js';
import { checkInt, checkMs } from '../internal/validate.js';
import { checkHosts, type Ephemeral, selfSigned } from './ephemeral.js';
import { fingerprintOfPem } from './fingerprint.js';
import { checkCertificates, checkPem, opensslReason } from './pem.js';

/** TlsServerOptions turn on TLS for a server's connections. Durations are milliseconds. */
export interface TlsServerOptions {
  /**
   * cert and key are the server's certificate (PEM, chain allowed, leaf
   * first) and private key. Without them, an ephemeral self-signed ECDSA
   * P-256 certificate is made at start for `hosts`; clients trust it by
   * pinning its fingerprint.
   */
  cert?: string | Buffer;
  /** key is the private key of `cert` (PEM). */
  key?: string | Buffer;
  /** clientCA turns on mutual TLS: a client certificate signed by one of these (PEM) is required. */
  clientCA?: string | Buffer | readonly (string | Buffer)[];
  /** handshakeTimeout closes a connection whose TLS handshake is not done in time. Default 5 s. */
  handshakeTimeout?: number;
  /**
   * maxHandshakes bounds handshakes in progress at once; past it the
   * oldest unfinished one is closed to admit the newcomer, so peers that
   * stall mid-handshake can never lock real clients out. Default 1024.
   */
  maxHandshakes?: number;
  /** alpn lists the application protocols offered, in order of preference (`http/1.1` for HTTP and WebSocket). */
  alpn?: readonly string[];
  /** hosts are the names and IPs an ephemeral certificate is made for (default: localhost, 127.0.0.1, ::1). */
  hosts?: readonly string[];
}

/** TLS_SERVER_DEFAULTS are the TLS defaults of every netkit server. */
export const TLS_SERVER_DEFAULTS = Object.freeze({
  /** 5 s to finish a handshake. */
  handshakeTimeout: 5_000,
  /** Beyond it the oldest unfinished handshake is closed to admit the newcomer. */
  maxHandshakes: 1024,
  /** Loopback names, for a test or a local server. */
  hosts: Object.freeze(['localhost', '127.0.0.1', '::1']),
});

/** CertificatePair is a certificate (PEM, chain allowed) and its private key. */
export interface CertificatePair {
  /** cert is the certificate (PEM, leaf first). */
  cert: string | Buffer;
  /** key is the certificate's private key (PEM). */
  key: string | Buffer;
}

/** ResolvedTlsServer is TlsServerOptions after validation, with the certificate in hand. */
export interface ResolvedTlsServer {
  /** pair is the certificate served: the one given, or the ephemeral one. */
  readonly pair: CertificatePair;
  /** ephemeral is true when the certificate was made at start. */
  readonly ephemeral: boolean;
  /** clientCA are the CAs a client certificate must be signed by; undefined when none is asked for. */
  readonly clientCA: (string | Buffer)[] | undefined;
  /** handshakeTimeout is how long a handshake may take, ms. */
  readonly handshakeTimeout: number;
  /** maxHandshakes bounds handshakes in progress at once. */
  readonly maxHandshakes: number;
  /** alpn lists the application protocols offered. */
  readonly alpn: string[] | undefined;
}

/**
 * checkTlsServer validates TlsServerOptions without making anything, so a
 * bad option is named before a port is bound; `true` means an ephemeral
 * certificate.
 */
export function checkTlsServer(o: TlsServerOptions | boolean | undefined): TlsServerOptions | undefined {
  if (o === undefined || o === false) return undefined;
  const opts: TlsServerOptions = o === true ? {} : o;
  if (typeof opts !== 'object' || opts === null)
    throw new InvalidArgumentError('tls', 'must be true or an object');
  if ((opts.cert === undefined) !== (opts.key === undefined)) {
    throw new InvalidArgumentError(
      opts.cert === undefined ? 'tls.cert' : 'tls.key',
      'cert and key go together (neither makes an ephemeral self-signed certificate)',
    );
  }
  if (opts.cert !== undefined) checkPair(opts as CertificatePair);
  if (opts.hosts !== undefined) {
    if (opts.cert !== undefined) {
      throw new InvalidArgumentError(
        'tls.hosts',
        'names an ephemeral certificate; with tls.cert and tls.key none is made',
      );
    }
    checkHosts('tls.hosts', opts.hosts);
  }
  if (opts.alpn !== undefined) checkAlpn(opts.alpn);
  // node:tls skips a CA it cannot parse without a word, and then refuses every client.
  for (const c of list(opts.clientCA) ?? []) checkCertificates('tls.clientCA', c);
  checkMs('tls.handshakeTimeout', opts.handshakeTimeout ?? TLS_SERVER_DEFAULTS.handshakeTimeout);
  checkInt('tls.maxHandshakes', opts.maxHandshakes ?? TLS_SERVER_DEFAULTS.maxHandshakes, 1, 1_000_000);
  return opts;
}

function checkAlpn(alpn: unknown): void {
  if (!Array.isArray(alpn)) {
    throw new InvalidArgumentError('tls.alpn', 'must be an array of protocol names, as ["http/1.1"]');
  }
  for (const p of alpn) {
    // RFC 7301 section 3.1: a protocol name is 1 to 255 bytes.
    if (typeof p !== 'string' || p === '') {
      throw new InvalidArgumentError('tls.alpn', `${JSON.stringify(p)} is not a protocol name`);
    }
    if (Buffer.byteLength(p) > 255) {
      throw new InvalidArgumentError(
        'tls.alpn',
        `a protocol name is at most 255 bytes, got ${Buffer.byteLength(p)}`,
      );
    }
  }
}

/** resolveTlsServer validates the options and makes the ephemeral certificate when none is given. */
export async function resolveTlsServer(
  o: TlsServerOptions | boolean | undefined,
): Promise<ResolvedTlsServer | undefined> {
  const opts = checkTlsServer(o);
  if (opts === undefined) return undefined;
  let pair: CertificatePair;
  let ephemeral: Ephemeral | undefined;
  if (opts.cert !== undefined && opts.key !== undefined) pair = { cert: opts.cert, key: opts.key };
  else {
    ephemeral = await selfSigned(opts.hosts ?? TLS_SERVER_DEFAULTS.hosts);
    pair = { cert: ephemeral.cert, key: ephemeral.key };
  }
  return Object.freeze({
    pair,
    ephemeral: ephemeral !== undefined,
    clientCA: list(opts.clientCA),
    handshakeTimeout: opts.handshakeTimeout ?? TLS_SERVER_DEFAULTS.handshakeTimeout,
    maxHandshakes: opts.maxHandshakes ?? TLS_SERVER_DEFAULTS.maxHandshakes,
    alpn: opts.alpn === undefined ? undefined : [...opts.alpn],
  });
}

/** checkPair makes sure a certificate and key are PEM and belong together (NETKIT_INVALID_ARGUMENT otherwise). */
export function checkPair(pair: CertificatePair): void {
  // Each alone first, so that a broken certificate is not reported as a key that does not fit it.
  checkCertificates('tls.cert', pair.cert);
  checkPem('tls.key', pair.key, 'PRIVATE KEY');
  try {
    createPrivateKey(pair.key);
  } catch (err) {
    throw new InvalidArgumentError('tls.key', `does not parse: ${opensslReason(err)}`);
  }
  try {
    tls.createSecureContext({ cert: pair.cert, key: pair.key });
  } catch (err) {
    throw new InvalidArgumentError('tls.key', `cannot be used with tls.cert: ${opensslReason(err)}`);
  }
}

type Waiter = { resolve: (s: tls.TLSSocket) => void; reject: (e: Error) => void };

/**
 * TlsAcceptor runs the TLS handshake on sockets a Listener accepted. It
 * feeds them to a node:tls server that never binds (the Listener owns the
 * port), so certificates, ALPN, client certificates, the handshake timeout
 * and reloading are node:tls's own. TLS 1.2 is the minimum; renegotiation
 * is refused (SSL_OP_NO_RENEGOTIATION: a client-initiated renegotiation is
 * a cheap way to make a server do expensive work, CVE-2011-1473).
 */
export class TlsAcceptor {
  readonly #server: tls.Server;
  readonly #o: ResolvedTlsServer;
  /** pending are sockets mid-handshake, oldest first. */
  readonly #pending = new Map<net.Socket, Waiter>();
  #pair: CertificatePair;
  #fingerprint: string;
  #ephemeral: boolean;

  constructor(o: ResolvedTlsServer) {
    this.#o = o;
    this.#pair = o.pair;
    this.#fingerprint = fingerprintOfPem(o.pair.cert);
    this.#ephemeral = o.ephemeral;
    this.#server = new tls.Server(this.#contextOptions(o.pair));
    this.#server.on('secureConnection', (s: tls.TLSSocket) => {
      // node:tls keeps the socket it wrapped as _parent; there is no public way back to it.
      const raw = (s as tls.TLSSocket & { _parent?: net.Socket })._parent;
      const w = raw === undefined ? undefined : this.#pending.get(raw);
      if (raw === undefined || w === undefined) {
        s.destroy();
        return;
      }
      this.#pending.delete(raw);
      w.resolve(s);
    });
    this.#server.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
      const raw = (s as tls.TLSSocket & { _parent?: net.Socket })._parent;
      s.destroy();
      if (raw === undefined) return;
      raw.destroy();
      this.#pending.get(raw)?.reject(err);
      this.#pending.delete(raw);
    });
  }

  /** fingerprint is `sha256:<hex>` of the certificate served now. */
  get fingerprint(): string {
    return this.#fingerprint;
  }

  /** certificate is the PEM certificate served now. */
  get certificate(): string {
    return this.#pair.cert.toString();
  }

  /** ephemeral is true while the certificate served is the one made at start (setCertificate ends it). */
  get ephemeral(): boolean {
    return this.#ephemeral;
  }

  /** handshaking is how many handshakes are in progress. */
  get handshaking(): number {
    return this.#pending.size;
  }

  /**
   * handshake runs the server side of the TLS handshake on `socket` and
   * resolves with the TLS socket. Rejects (with node:tls's error; the
   * socket is destroyed) on failure, timeout, close, or when evicted at
   * maxHandshakes.
   */
  handshake(socket: net.Socket): Promise<tls.TLSSocket> {
    if (this.#pending.size >= this.#o.maxHandshakes) {
      const [oldest, w] = this.#pending.entries().next().value as [net.Socket, Waiter];
      this.#pending.delete(oldest);
      oldest.destroy();
      w.reject(new Error(`handshake closed: ${this.#o.maxHandshakes} handshakes in progress`));
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(socket, { resolve, reject });
      socket.once('close', () => {
        const w = this.#pending.get(socket);
        if (w === undefined) return;
        this.#pending.delete(socket);
        w.reject(new Error('the connection closed during the TLS handshake'));
      });
      this.#server.emit('connection', socket);
    });
  }

  /**
   * setCertificate serves `pair` to new connections; connections already
   * open keep theirs. A pair that does not load (unreadable PEM, a key that
   * does not match) throws NETKIT_INVALID_ARGUMENT and the old one stays.
   */
  setCertificate(pair: CertificatePair): void {
    checkPair(pair);
    const fingerprint = fingerprintOfPem(pair.cert);
    this.#server.setSecureContext(this.#contextOptions(pair));
    this.#pair = pair;
    this.#fingerprint = fingerprint;
    this.#ephemeral = false;
  }

  /** close ends every handshake still in progress. */
  close(): void {
    for (const [socket, w] of this.#pending) {
      socket.destroy();
      w.reject(new Error('the server closed during the TLS handshake'));
    }
    this.#pending.clear();
  }

  #contextOptions(pair: CertificatePair): tls.TlsOptions {
    const o = this.#o;
    return {
      cert: pair.cert,
      key: pair.key,
      minVersion: 'TLSv1.2',
      secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
      handshakeTimeout: o.handshakeTimeout > 0 ? o.handshakeTimeout : 2 ** 31 - 1,
      ...(o.alpn ? { ALPNProtocols: o.alpn } : {}),
      ...(o.clientCA ? { ca: o.clientCA, requestCert: true, rejectUnauthorized: true } : {}),
    };
  }
}

function list<T>(v: T | readonly T[] | undefined): T[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? [...v] : [v as T];
}
