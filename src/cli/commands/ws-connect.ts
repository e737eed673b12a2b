import { createInterface } from 'node:readline';
import { TimeoutError, WsError } from '../../errors.js';
import { hexDump, jsonLine, safeText } from '../../internal/text.js';
import type { TlsClientOptions } from '../../tls/index.js';
import type { ProxyOption } from '../../tunnel/index.js';
import { dialWs, type WsClient } from '../../ws/client/client.js';
import { CLOSE, isNormalClose, type WsMessage } from '../../ws/message.js';
import { Command } from '../commander.js';
import { EXIT, exitCodeFor, stoppedExit } from '../exit-codes.js';
import { bytesOption, collect, durationOption, jsonOption, parseHeaderFlags } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { addProxyFlags, type ProxyFlags, proxyChooser, proxyHelp } from '../proxy-flags.js';
import { addTlsFlags, secureUrl, TLS_HELP, type TlsFlags, tlsFromFlags } from '../tls-flags.js';

interface WsConnectFlags extends TlsFlags, ProxyFlags {
  header: string[];
  subprotocol: string[];
  origin?: string;
  binary?: boolean;
  send: string[];
  count?: number;
  wait: number;
  preamble: string[];
  showPing?: boolean;
  ping?: number;
  reconnect?: boolean;
  maxPayload?: number;
  connectTimeout: number;
  quiet?: boolean;
  json?: boolean;
}

/** wsConnectCommand defines `netkit ws connect`: an interactive WebSocket client, like wscat. */
export function wsConnectCommand(ctx: CliContext): Command {
  const cmd = new Command('connect')
    .description('connect to a WebSocket server: each stdin line is a message, each message a line on stdout')
    .argument(
      '<url>',
      'ws:// or wss:// URL (http:// and https:// mean the same); a Unix socket as ws://unix:/path:/echo',
    )
    .option('-H, --header <header>', "upgrade request header 'Name: value' (repeatable)", collect, [])
    .option('--subprotocol <name>', 'offer this subprotocol (repeatable)', collect, [])
    .option('--origin <origin>', 'send this Origin header, as a browser would')
    .option(
      '--binary',
      'send input as binary messages, bytes unchanged: each read of stdin (up to 64KiB) is one message',
    )
    .option(
      '--send <text>',
      'one-shot: send this message (repeatable), print the replies, close',
      collect,
      [],
    )
    .option('--count <n>', 'with --send: how many messages to wait for (default 1)', (v) =>
      positive(v, '--count'),
    )
    .addOption(
      durationOption(
        '--wait <duration>',
        'with --send: give up waiting for replies after this long (exit 4)',
        '5s',
      ),
    )
    .option('--preamble <text>', 'send this first, and again after every reconnect (repeatable)', collect, [])
    .option('--show-ping', "show the server's pings and the pongs")
    .addOption(
      durationOption(
        '--ping <duration>',
        'ping the server this often and print the round-trip time; a pong still missing at the next ping exits 4',
      ),
    )
    .option('--reconnect', 'reconnect when the connection drops (exponential backoff with jitter, up to 30s)')
    .addOption(bytesOption('--max-payload <bytes>', 'largest message accepted (default 64MiB)'))
    .addOption(
      durationOption('--connect-timeout <duration>', 'give up connecting after this long (exit 4)', '10s'),
    )
    .option('-q, --quiet', 'no connection status on stderr')
    .addOption(jsonOption());
  addProxyFlags(cmd, true);
  return addTlsFlags(cmd, 'url')
    .addHelpText(
      'after',
      `
Received text prints as a line (control and bidi characters escaped), binary as a hex dump.
End of input sends a close frame (1000); Ctrl-C closes too.
Exit codes: 0 closed normally (1000, 1001), 3 could not connect, upgrade or tunnel refused,
4 timeout, 5 closed abnormally (no close frame, 1008, 1009, …) whether or not input
had ended, 6 bad address.
${TLS_HELP}
${proxyHelp(true)}

Examples:
  netkit ws connect ws://127.0.0.1:8080/echo
  netkit ws connect ws://127.0.0.1:8080/echo --send hello --json
  netkit ws connect wss://chat.example/ws -H 'Authorization: Bearer x' --reconnect --preamble '{"join":"lobby"}'
  netkit ws connect wss://127.0.0.1:8443/echo --pin sha256:3f1c…   # a netkit ws serve --tls
  netkit ws connect ws://unix:/run/app.sock:/echo
  netkit ws connect wss://echo.example/ws --proxy socks5h://127.0.0.1:1080`,
    )
    .action(async (url: string, flags: WsConnectFlags) => {
      ctx.exitCode = await runConnect(ctx, url, flags);
    });
}

function positive(v: string, flag: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 1_000_000)
    throw new Error(`${flag} must be a whole number from 1 to 1000000`);
  return n;
}

async function runConnect(ctx: CliContext, url: string, flags: WsConnectFlags): Promise<number> {
  const { io } = ctx;
  const out = new Output(io, Boolean(flags.json));
  const status = (event: string, fields: Record<string, unknown>, human: string) => {
    if (!flags.quiet || flags.json) out.note(event, fields, human);
  };
  const tls = await tlsFromFlags(flags);
  const proxy = proxyChooser(flags, io.env);
  let client: WsClient;
  try {
    client = await connect(secureUrl(url, flags), flags, tls, io.signal, proxy);
  } catch (err) {
    // The refusal may quote the server (an HTTP reason phrase).
    out.error(escaped(err));
    return exitCodeFor(err);
  }
  status(
    'connected',
    { url: client.url, protocol: client.protocol },
    `connected to ${safeText(client.url)}${client.protocol ? ` (subprotocol ${safeText(client.protocol)})` : ''}`,
  );
  watch(client, flags, status);
  // Set when the server stopped answering (a reply or a pong overdue): it will not answer
  // our close frame either, so the close is sent but not waited for (closeTimeout is 5 s).
  let silent = false;
  let pinger: NodeJS.Timeout | undefined;
  const pongMissed = new Promise<never>((_, reject) => {
    if (!flags.ping) return;
    const every = flags.ping;
    let unanswered = false;
    // A pong still missing when the next ping is due means a server gone without a FIN
    // (a black hole, a cut link): TCP alone would notice only after minutes of retransmits.
    pinger = setInterval(() => {
      if (unanswered) {
        silent = true;
        reject(
          new TimeoutError(
            'NETKIT_TIMEOUT',
            'websocket ping',
            `no pong within ${every} ms; the server is not answering`,
            every,
          ),
        );
        return;
      }
      unanswered = true;
      void client.ping().then((rtt) => {
        unanswered = false;
        reportRtt(out, rtt);
      });
    }, every);
  });
  pongMissed.catch(() => {});
  try {
    if (flags.send.length > 0) {
      const code = await Promise.race([oneShot(client, flags, out, io.stdout), pongMissed]);
      if (code === EXIT.TIMEOUT) silent = true;
      return code;
    }
    const input = pump(ctx, client, flags);
    input.catch(() => {});
    const reading = (async () => {
      for await (const msg of client) await print(io.stdout, render(msg, out));
    })();
    await Promise.race([reading, pongMissed]);
    const { code, reason } = await client.closed;
    status('closed', { code, reason }, `closed ${code}${reason ? ` ${safeText(reason)}` : ''}`);
    if (io.signal.aborted) return stoppedExit(io.signal);
    // Iteration ends quietly when our own close (end of input) crossed the server's: the code decides,
    // so a 1009 exits 5 whether it came before or after stdin ended.
    return isNormalClose(code) ? EXIT.OK : EXIT.RESET;
  } catch (err) {
    if (io.signal.aborted) return stoppedExit(io.signal);
    if (err instanceof WsError && err.closeCode !== undefined) {
      status('closed', { code: err.closeCode, reason: err.reason }, safeText(err.message));
      return EXIT.RESET;
    }
    out.error(escaped(err));
    return exitCodeFor(err);
  } finally {
    clearInterval(pinger);
    const closing = client.close();
    if (!silent) await closing;
  }
}

/** connect opens the connection the flags describe. */
function connect(
  url: string,
  flags: WsConnectFlags,
  tls: TlsClientOptions | undefined,
  signal: AbortSignal,
  proxy: ProxyOption | undefined,
): Promise<WsClient> {
  return dialWs(url, {
    headers: parseHeaderFlags(flags.header),
    protocols: flags.subprotocol,
    ...(flags.origin !== undefined ? { origin: flags.origin } : {}),
    ...(flags.maxPayload !== undefined ? { maxPayload: flags.maxPayload } : {}),
    timeout: flags.connectTimeout,
    ...(tls !== undefined ? { tls } : {}),
    ...(flags.reconnect ? { reconnect: true } : {}),
    preamble: flags.preamble.map((p) => encode(p, flags)),
    signal,
    ...(proxy !== undefined ? { proxy } : {}),
  });
}

/** watch reports pings, pongs, drops and reconnections. */
function watch(
  client: WsClient,
  flags: WsConnectFlags,
  status: (e: string, f: Record<string, unknown>, h: string) => void,
): void {
  if (flags.showPing) {
    client.on('ping', ({ payload }) =>
      status('ping', { payload: payload.toString('hex') }, `< ping ${safeText(payload)}`),
    );
    client.on('pong', ({ payload, rttMs }) =>
      status(
        'pong',
        { payload: payload.toString('hex'), rttMs },
        `< pong${rttMs !== undefined ? ` ${rttMs.toFixed(2)} ms` : ''}`,
      ),
    );
  }
  client.on('close', ({ code, reason, reconnecting }) => {
    if (reconnecting) status('dropped', { code, reason }, `connection dropped (${code}); reconnecting`);
  });
  client.on('reconnecting', ({ attempt, delayMs, error }) =>
    status(
      'reconnecting',
      { attempt, delayMs, error: error?.message },
      `reconnect attempt ${attempt} in ${delayMs} ms`,
    ),
  );
  client.on('open', ({ reconnect }) => status('reconnected', { reconnect }, `reconnected (${reconnect})`));
}

function reportRtt(out: Output, rtt: number): void {
  if (Number.isFinite(rtt)) out.note('rtt', { rttMs: rtt }, `rtt ${rtt.toFixed(2)} ms`);
}

async function oneShot(
  client: WsClient,
  flags: WsConnectFlags,
  out: Output,
  stdout: NodeJS.WritableStream,
): Promise<number> {
  const want = flags.count ?? 1;
  let sendError: unknown;
  try {
    for (const text of flags.send) await client.send(encode(text, flags), { binary: Boolean(flags.binary) });
  } catch (err) {
    // The server may have answered and closed already: print what came, then report.
    sendError = err;
  }
  let got = 0;
  const it = client[Symbol.asyncIterator]();
  const deadline = Date.now() + flags.wait;
  while (got < want) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, left));
    });
    const r = await Promise.race([it.next(), timeout]);
    clearTimeout(timer);
    if (r === 'timeout') {
      out.error(
        new TimeoutError(
          'NETKIT_TIMEOUT',
          'websocket read',
          `got ${got} of ${want} messages within ${flags.wait} ms`,
          flags.wait,
        ),
      );
      return EXIT.TIMEOUT;
    }
    if (r.done) break;
    await print(stdout, render(r.value, out));
    got++;
  }
  if (got >= want) return EXIT.OK;
  if (sendError !== undefined) throw sendError;
  return EXIT.RESET;
}

function encode(text: string, flags: WsConnectFlags): string | Buffer {
  return flags.binary ? Buffer.from(text) : text;
}

/**
 * escaped is `err` with its message made safe to print: messages can quote
 * the peer (an HTTP reason phrase, a close reason). The copy keeps the
 * error's class and code, since it inherits from it.
 */
function escaped(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const message = safeText(err.message);
  return message === err.message ? err : Object.create(err, { message: { value: message } });
}

function render(msg: WsMessage, out: Output): string {
  if (out.json) {
    const body = msg.binary ? { base64: msg.data.toString('base64') } : { data: msg.text() };
    return `${jsonLine({ event: 'message', type: msg.binary ? 'binary' : 'text', bytes: msg.data.length, ...body })}\n`;
  }
  if (msg.binary) return `<binary ${msg.data.length} bytes>\n${hexDump(msg.data)}\n`;
  return `${safeText(msg.data, true)}\n`;
}

/** print writes to stdout and waits when it is full, so a slow terminal or pipe slows the socket down. */
async function print(stdout: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stdout.write(text)) await new Promise((resolve) => stdout.once('drain', resolve));
}

// A binary message per read of stdin, at most this big.
const BINARY_CHUNK = 64 * 1024;

/**
 * pump sends stdin and closes (1000) at end of input: each line as a text
 * message, or with --binary the bytes as they are, a message per read —
 * never split at newlines or decoded, so every byte value arrives unchanged.
 */
async function pump(ctx: CliContext, client: WsClient, flags: WsConnectFlags): Promise<void> {
  if (flags.binary) {
    for await (const chunk of ctx.io.stdin as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      for (let i = 0; i < buf.length; i += BINARY_CHUNK) {
        await client.send(buf.subarray(i, i + BINARY_CHUNK), { binary: true });
      }
    }
  } else {
    const lines = createInterface({
      input: ctx.io.stdin,
      crlfDelay: Number.POSITIVE_INFINITY,
      terminal: false,
    });
    for await (const line of lines) await client.send(line);
  }
  await client.close(CLOSE.NORMAL);
}
