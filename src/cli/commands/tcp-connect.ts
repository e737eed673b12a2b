import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { joinHostPort } from '../../addr/split.js';
import { InvalidArgumentError, isNetkitError } from '../../errors.js';
import { createDecoder, createEncoder } from '../../framing/format.js';
import type { FrameFormat } from '../../framing/types.js';
import { formatDuration } from '../../internal/duration.js';
import { hexDump, jsonLine, safeText, unescapeText } from '../../internal/text.js';
// The client's own files, not tcp/index.js: that also loads the listener and its TLS
// server, whose certificate code (pkijs) would double `netkit tcp connect`'s start-up.
import type { Conn } from '../../tcp/conn.js';
import { dial } from '../../tcp/dial.js';
import { endpointText } from '../../tcp/endpoint.js';
import { Command, Option } from '../commander.js';
import { EXIT, exitCodeFor, stoppedExit } from '../exit-codes.js';
import {
  bytesOption,
  durationOption,
  frameOption,
  jsonOption,
  type KeepAliveFlags,
  keepAliveFromFlags,
  keepAliveOption,
  networkOption,
  userTimeoutOption,
} from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { addProxyFlags, type ProxyFlags, proxyFromFlag, proxyHelp } from '../proxy-flags.js';
import { addTlsFlags, TLS_HELP, type TlsFlags, tlsFromFlags } from '../tls-flags.js';

/** SEND_IDLE_MS is how long a one-shot --send waits for the answer's next byte by default. */
const SEND_IDLE_MS = 10_000;

interface ConnectFlags extends TlsFlags, KeepAliveFlags, ProxyFlags {
  network: string;
  send?: string;
  frame: FrameFormat;
  maxFrame?: number;
  hex?: boolean;
  connectTimeout: number;
  idleTimeout?: number;
  shutdown: boolean;
  local?: string;
  proxyHeader?: 'v1' | 'v2';
  proxySrc?: string;
  quiet?: boolean;
  json?: boolean;
}

/** tcpConnectCommand defines `netkit tcp connect`: stdin to the socket, the socket to stdout, like ncat. */
export function tcpConnectCommand(ctx: CliContext): Command {
  const cmd = new Command('connect')
    .description('connect to a TCP server: stdin goes to the socket, the socket goes to stdout')
    .argument('<address>', 'host:port to connect to, or unix:/path for a Unix socket')
    .argument(
      '[port]',
      'the port, when the host is given on its own (ncat style: `netkit tcp connect example.com 80`)',
    )
    .addOption(networkOption('tcp'))
    .option(
      '--send <text>',
      'send this text (\\r \\n \\t \\xHH escapes), then half-close and print the answer',
    )
    .addOption(frameOption('none'))
    .addOption(bytesOption('--max-frame <bytes>', 'largest frame accepted from the server'))
    .option('--hex', 'print received bytes as a hex dump')
    .addOption(durationOption('--connect-timeout <duration>', 'give up connecting after this long', '10s'))
    .addOption(
      durationOption(
        '--idle-timeout <duration>',
        `exit (code 4) when nothing is received for this long (with --send: ${SEND_IDLE_MS / 1000}s unless set; 0 = never)`,
      ),
    )
    .option('--no-shutdown', 'do not half-close (send FIN) when input ends')
    .option('--local <address>', 'local address to connect from')
    .addOption(keepAliveOption())
    .addOption(userTimeoutOption())
    .addOption(
      new Option(
        '--proxy-header <version>',
        'first send a PROXY protocol header, as a load balancer would',
      ).choices(['v1', 'v2']),
    )
    .option(
      '--proxy-src <ip:port>',
      "with --proxy-header: the client address to claim (default: this connection's own)",
    )
    .option('-q, --quiet', 'no connection status on stderr')
    .addOption(jsonOption());
  addProxyFlags(cmd, false);
  return addTlsFlags(cmd, 'address')
    .addHelpText(
      'after',
      `
In an interactive session, a line holding only Q quits.
Exit codes: 0 closed by the server (FIN), 3 could not connect (or TLS failed, or the proxy refused), 4 timeout, 5 reset (RST), 6 bad address.
${TLS_HELP}
${proxyHelp(false)}

Examples:
  netkit tcp connect 127.0.0.1:8330
  netkit tcp connect example.test:80 --send 'HEAD / HTTP/1.0\\r\\n\\r\\n'
  printf 'a\\nb\\n' | netkit tcp connect 127.0.0.1:9000 --frame len32
  netkit tcp connect 127.0.0.1:8443 --pin sha256:3f1c…   # a netkit tcp serve --tls
  netkit tcp connect unix:/run/app.sock
  netkit tcp connect example.com 22 --proxy socks5h://127.0.0.1:1080`,
    )
    .action(async (address: string, port: string | undefined, flags: ConnectFlags) => {
      ctx.exitCode = await runConnect(ctx, port === undefined ? address : hostAndPort(address, port), flags);
    });
}

/** hostAndPort joins ncat's two arguments into one address; an IPv6 host gets its brackets. */
function hostAndPort(host: string, port: string): string {
  if (host.startsWith('unix:'))
    throw new InvalidArgumentError('[port]', 'a Unix socket address takes no port');
  if (!/^[0-9]{1,5}$/.test(port) && !/^[a-z][a-z0-9-]*$/i.test(port)) {
    throw new InvalidArgumentError('[port]', `${JSON.stringify(port)} is not a port number or service name`);
  }
  if (/^\[.*\]:/.test(host) || host.split(':').length === 2) {
    throw new InvalidArgumentError('[port]', `${JSON.stringify(host)} has a port already: give it once`);
  }
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return joinHostPort(bare, port);
}

async function runConnect(ctx: CliContext, address: string, flags: ConnectFlags): Promise<number> {
  const { io } = ctx;
  const out = new Output(io, Boolean(flags.json));
  const codec = { maxFrameBytes: flags.maxFrame };
  const encoder = createEncoder(flags.frame, codec);
  const decoder = createDecoder(flags.frame, codec);
  const tls = await tlsFromFlags(flags);
  const proxy = proxyFromFlag(flags);
  if (tls !== undefined && flags.proxyHeader) {
    // A PROXY header goes before the TLS handshake (a server reads it from the raw stream first), and dial() does the handshake.
    throw new InvalidArgumentError('--proxy-header', 'cannot be sent before a TLS handshake (--tls) yet');
  }
  const keepAlive = keepAliveFromFlags(flags);
  const conn = await dial(address, {
    network: flags.network,
    timeout: flags.connectTimeout,
    signal: io.signal,
    ...(flags.local ? { localAddress: flags.local } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(keepAlive !== undefined ? { keepAlive } : {}),
    ...(proxy !== undefined ? { proxy } : {}),
  });
  const status = (event: string, fields: Record<string, unknown>, human: string) => {
    if (!flags.quiet || flags.json) out.note(event, fields, human);
  };
  // A property test, not instanceof: importing node:tls for it would slow every start.
  const secure = (conn.socket as Partial<TLSSocket>).encrypted
    ? (conn.socket as TLSSocket).getProtocol()
    : null;
  status(
    'connected',
    {
      remote: endpointText(conn.remoteAddr),
      local: endpointText(conn.localAddr),
      ...(secure ? { tls: secure } : {}),
      ...(proxy !== undefined ? { target: address, proxy: proxy.href } : {}),
    },
    proxy !== undefined
      ? `connected to ${address} through proxy ${proxy.href} from ${endpointText(conn.localAddr)}${secure ? ` (${secure})` : ''}`
      : `connected to ${endpointText(conn.remoteAddr)} from ${endpointText(conn.localAddr)}${secure ? ` (${secure})` : ''}`,
  );
  if (flags.proxyHeader) await conn.write(await proxyHeader(conn, flags.proxyHeader, flags.proxySrc));
  const onAbort = () => conn.destroy();
  io.signal.addEventListener('abort', onAbort, { once: true });
  // A one-shot --send waits for the answer, not forever: a server that never
  // answers (or never closes) ends it with exit 4. Interactive use keeps none.
  const idleMs = flags.idleTimeout ?? (flags.send !== undefined ? SEND_IDLE_MS : 0);
  let idle: NodeJS.Timeout | undefined;
  let idled = false;
  const armIdle = () => {
    if (!idleMs) return;
    clearTimeout(idle);
    idle = setTimeout(() => {
      idled = true;
      conn.destroy();
    }, idleMs);
  };
  armIdle();

  const state = { quit: false };
  const sending =
    flags.send !== undefined
      ? sendOnce(conn, encoder.encode(unescapeText(flags.send)), flags)
      : pump(ctx, conn, flags, encoder, state);
  sending.catch(() => {}); // its failure shows up on the read side too
  let offset = 0;
  let code: number = EXIT.OK;
  try {
    for await (const frame of conn.frames(decoder)) {
      armIdle();
      await print(io.stdout, render(frame, flags, out, offset));
      offset += frame.length;
    }
    status(
      'closed',
      { peerClose: 'fin', bytesIn: conn.bytesRead, bytesOut: conn.bytesWritten },
      'connection closed by peer (FIN)',
    );
  } catch (err) {
    if (state.quit) {
      code = EXIT.OK;
    } else if (io.signal.aborted) {
      code = stoppedExit(io.signal);
    } else if (idled) {
      status('idle', { idleMs }, `nothing received for ${formatDuration(idleMs)}; closing (--idle-timeout)`);
      code = EXIT.TIMEOUT;
    } else if (isNetkitError(err, 'NETKIT_CONNECTION_RESET')) {
      status(
        'closed',
        { peerClose: 'rst', bytesIn: conn.bytesRead, bytesOut: conn.bytesWritten },
        'connection reset by peer (RST)',
      );
      code = EXIT.RESET;
    } else {
      out.error(err);
      code = exitCodeFor(err);
    }
  } finally {
    clearTimeout(idle);
    io.signal.removeEventListener('abort', onAbort);
    await conn.close({ lingerMs: 1000 });
  }
  return code;
}

function render(frame: Buffer, flags: ConnectFlags, out: Output, offset: number): string | Buffer {
  const framed = flags.frame !== 'none';
  if (out.json) {
    const body = flags.hex ? { hex: frame.toString('hex') } : { text: frame.toString('utf8') };
    return `${jsonLine({ event: framed ? 'frame' : 'data', bytes: frame.length, ...body })}\n`;
  }
  if (flags.hex) return `${hexDump(frame, framed ? 0 : offset)}\n`;
  // Raw mode passes bytes through like ncat; framed mode prints one frame per line, made safe for a terminal.
  return framed ? `${safeText(frame)}\n` : frame;
}

async function print(stdout: NodeJS.WritableStream, data: string | Buffer): Promise<void> {
  if (data.length > 0 && !stdout.write(data)) await new Promise((r) => stdout.once('drain', r));
}

async function sendOnce(conn: Conn, bytes: Buffer, flags: ConnectFlags): Promise<void> {
  await conn.write(bytes);
  if (flags.shutdown) await conn.closeWrite();
}

/** pump copies stdin to the connection: raw chunks, or one frame per input line when framed. */
async function pump(
  ctx: CliContext,
  conn: Conn,
  flags: ConnectFlags,
  encoder: ReturnType<typeof createEncoder>,
  state: { quit: boolean },
): Promise<void> {
  const { stdin } = ctx.io;
  const interactive = Boolean(stdin.isTTY);
  if (flags.frame === 'none' && !interactive) {
    for await (const chunk of stdin) await conn.write(chunk as Buffer);
  } else {
    // Loaded here: raw piped input (the common scripted case) never needs readline.
    const { createInterface } = await import('node:readline');
    const lines = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
    for await (const line of lines) {
      // The classic client's way out: a line holding only Q.
      if (interactive && line.trim() === 'Q') {
        state.quit = true;
        conn.destroy();
        return;
      }
      await conn.write(flags.frame === 'none' ? `${line}\n` : encoder.encode(Buffer.from(line)));
    }
  }
  if (flags.shutdown) await conn.closeWrite();
}

/**
 * proxyHeader builds the PROXY header a load balancer would send for this connection.
 * The builder loads here, on the rare run that sends one, not at every start.
 */
async function proxyHeader(conn: Conn, version: 'v1' | 'v2', claimed: string | undefined): Promise<Buffer> {
  const dst = conn.remoteAddr;
  let src: { ip: string; port: number } | undefined = conn.localAddr;
  if (claimed !== undefined) {
    const i = claimed.lastIndexOf(':');
    const ip = claimed.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(claimed.slice(i + 1));
    if (i <= 0 || !isIP(ip) || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InvalidArgumentError(
        '--proxy-src',
        `"${claimed}" is not IP:PORT (e.g. 203.0.113.7:51000, [2001:db8::7]:51000)`,
      );
    }
    src = { ip, port };
  }
  if (!src || !dst)
    throw new InvalidArgumentError('--proxy-header', 'the connection has no addresses to put in a header');
  const family = isIP(src.ip) === 6 || isIP(dst.ip) === 6 ? 'inet6' : 'inet';
  if (isIP(src.ip) !== isIP(dst.ip)) {
    throw new InvalidArgumentError(
      '--proxy-src',
      `a ${isIP(src.ip) === 6 ? 'IPv6' : 'IPv4'} source cannot go with the ${isIP(dst.ip) === 6 ? 'IPv6' : 'IPv4'} server address`,
    );
  }
  const source = { address: src.ip, port: src.port };
  const destination = { address: dst.ip, port: dst.port };
  const { buildProxyHeaderV1, buildProxyHeaderV2 } = await import('../../proxy/build.js');
  return version === 'v1'
    ? buildProxyHeaderV1({ family, source, destination })
    : buildProxyHeaderV2({ command: 'PROXY', family, transport: 'stream', source, destination });
}
