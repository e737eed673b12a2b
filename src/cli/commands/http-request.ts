import { type HttpResponse, request } from '../../http/index.js';
import { safeText } from '../../internal/text.js';
import { Command } from '../commander.js';
import { EXIT } from '../exit-codes.js';
import { readFileFlag } from '../files.js';
import { viewBody } from '../json-view.js';
import { collect, durationOption, jsonOption, parseHeaderFlags } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { addProxyFlags, type ProxyFlags, proxyChooser, proxyHelp } from '../proxy-flags.js';
import { addTlsFlags, secureUrl, TLS_HELP, type TlsFlags, tlsFromFlags } from '../tls-flags.js';

interface RequestFlags extends TlsFlags, ProxyFlags {
  header: string[];
  data?: string;
  dataFile?: string;
  include?: boolean;
  follow?: boolean;
  location?: boolean;
  head?: boolean;
  fail?: boolean;
  timeout: number;
  timing?: boolean;
  json?: boolean;
}

const METHODS = ['get', 'post', 'put', 'delete', 'head'] as const;

/** httpRequestCommands defines `netkit http get|post|put|delete|head <url>`. */
export function httpRequestCommands(ctx: CliContext): Command[] {
  return METHODS.map((method) => {
    const cmd = new Command(method)
      .description(`send an HTTP ${method.toUpperCase()} and print the response`)
      .argument('<url>', 'http:// or https:// URL; a Unix socket as http://unix:/path:/x')
      .option('-H, --header <header>', "request header 'Name: value' (repeatable)", collect, [])
      .option('-i, --include', 'print the status line and headers before the body')
      .option('-I, --head-only', 'print only the status line and headers')
      .option('--head', "the same as --head-only (curl's name)")
      .option('-L, --follow', 'follow redirects (up to 10)')
      .option('--location', "the same as --follow (curl's name)")
      .option('-f, --fail', 'exit 22 without printing the body when the status is 400 or more, as curl does')
      .addOption(durationOption('--timeout <duration>', 'give up after this long (whole request)', '30s'))
      .option('--timing', 'print a per-phase breakdown (DNS, connect, TLS, first byte, download) on stderr')
      .addOption(jsonOption());
    addTlsFlags(cmd, 'url');
    addProxyFlags(cmd, true);
    if (method !== 'get' && method !== 'head' && method !== 'delete') {
      cmd
        .option('-d, --data <text>', "request body ('-' reads stdin, '@file' a file, '@-' stdin, as curl)")
        .option('--data-file <path>', 'request body from a file');
    }
    cmd.addHelpText(
      'after',
      `
Exit codes: 0 a response (any status; with --fail, below 400), 22 with --fail a status of 400 or more, 2 bad usage, 3 could not connect (or TLS failed, or the proxy refused), 4 timeout, 6 bad address.
${TLS_HELP}
${proxyHelp(true)}

Examples:
  netkit http get https://127.0.0.1:8443/ --pin sha256:3f1c…   # a netkit http serve --tls
  netkit http get https://internal.example/ --cacert ca.pem --cert me.pem --key me.key
  netkit http get http://unix:/run/app.sock:/healthz
  netkit http get https://example.com/ --proxy http://user:pass@proxy.corp:3128 --timing`,
    );
    return cmd.action(async (url: string, flags: RequestFlags & { headOnly?: boolean }) => {
      ctx.exitCode = await runRequest(ctx, method, url, flags);
    });
  });
}

async function runRequest(
  ctx: CliContext,
  method: string,
  url: string,
  flags: RequestFlags & { headOnly?: boolean },
): Promise<number> {
  const out = new Output(ctx.io, Boolean(flags.json));
  const headers = parseHeaderFlags(flags.header);
  // Checked before a body is read: a bad --proxy is a usage error at once.
  const proxy = proxyChooser(flags, ctx.io.env);
  const data = flags.data;
  const body =
    flags.dataFile !== undefined
      ? await readFileFlag('--data-file', flags.dataFile)
      : data === '-' || data === '@-'
        ? await readStdin(ctx)
        : data?.startsWith('@')
          ? await readFileFlag('--data', data.slice(1))
          : data;
  const tls = await tlsFromFlags(flags);
  const res = await request(secureUrl(url, flags), {
    ...(tls !== undefined ? { tls } : {}),
    method: method.toUpperCase(),
    headers,
    ...(body !== undefined ? { body } : {}),
    timeout: flags.timeout,
    follow: Boolean(flags.follow || flags.location),
    signal: ctx.io.signal,
    ...(proxy !== undefined ? { proxy } : {}),
  });
  const failed = flags.fail === true && res.status >= 400;
  if (failed) {
    // curl --fail: no body, a line on stderr, exit 22 (the response still shows with --json).
    out.note('failed', { status: res.status }, `HTTP ${res.status} ${safeText(res.statusText)}`);
    if (!out.json) return EXIT.HTTP_ERROR;
  }
  if (out.json) {
    const text = res.body.toString('utf8');
    const printable = Buffer.from(text, 'utf8').equals(res.body);
    out.event('response', {
      url: res.url,
      status: res.status,
      statusText: res.statusText,
      httpVersion: res.httpVersion,
      headers: res.headers,
      ...(printable ? { body: text } : { bodyBase64: res.body.toString('base64') }),
      redirects: res.redirects,
      timing: res.timing,
    });
    return failed ? EXIT.HTTP_ERROR : EXIT.OK;
  }
  const headOnly = flags.headOnly || flags.head;
  if (flags.include || headOnly) ctx.io.stdout.write(head(res));
  if (!headOnly) {
    // On a terminal (or with FORCE_COLOR) a JSON body is indented and coloured; piped, its bytes go out unchanged.
    const terminal = Boolean(ctx.io.stdout.isTTY) || out.colorful;
    ctx.io.stdout.write(viewBody(res.body, headerOf(res, 'content-type'), { terminal, color: out.colorful }));
  }
  if (flags.timing) ctx.io.stderr.write(timing(res));
  return EXIT.OK;
}

function headerOf(res: HttpResponse, name: string): string | undefined {
  return res.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

function head(res: HttpResponse): string {
  const lines = [`HTTP/${res.httpVersion} ${res.status} ${peerText(res.statusText)}`];
  for (const [name, value] of res.headers) lines.push(`${name}: ${peerText(value)}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * peerText shows a status reason or header value as the peer sent it: node:http
 * hands them over decoded as latin1, so they are taken back to bytes and
 * escaped like any peer text (UTF-8 shown, controls and invalid bytes escaped).
 */
function peerText(value: string): string {
  return safeText(Buffer.from(value, 'latin1'));
}

function timing(res: HttpResponse): string {
  const t = res.timing;
  const row = (name: string, ms: number) => `  ${name.padEnd(11)} ${ms.toFixed(2).padStart(9)} ms\n`;
  return `timing\n${row('dns', t.dnsMs)}${row('connect', t.connectMs)}${row('tls', t.tlsMs)}${row('first byte', t.firstByteMs)}${row('download', t.downloadMs)}${row('total', t.totalMs)}`;
}

async function readStdin(ctx: CliContext): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
