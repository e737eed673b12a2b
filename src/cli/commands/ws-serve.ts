import { setFlagsFromString } from 'node:v8';
import { HTTP_ALPN } from '../../http/server/serve.js';
import { safeText } from '../../internal/text.js';
import { ClusterBus, isBusMessage } from '../../ws/bus/cluster.js';
import type { Bus } from '../../ws/bus/types.js';
import type { WsServerEvent } from '../../ws/server/options.js';
import { serveWs } from '../../ws/server/serve.js';
import { type Command, Option } from '../commander.js';
import { bytesOption, collect, durationOption } from '../options.js';
import type { Output } from '../output.js';
import type { CliContext } from '../program.js';
import { serverCommand } from '../server-command.js';
import type { ServerFlags } from '../server-flags.js';

interface WsServeFlags extends ServerFlags {
  path?: string;
  mode: 'echo' | 'broadcast';
  page?: boolean;
  origin: string[];
  maxPayload?: number;
  maxQueue?: number;
  heartbeat: number;
  deflate?: boolean;
  subprotocol: string[];
  redis?: string;
}

/** wsServeCommand defines `netkit ws serve`: echo or broadcast rooms, with an optional browser page. */
export function wsServeCommand(ctx: CliContext): Command {
  const pathOf = (flags: WsServeFlags) => flags.path ?? (flags.mode === 'broadcast' ? '/chat' : '/echo');
  return serverCommand<WsServeFlags>(ctx, {
    name: 'serve',
    description:
      'serve WebSocket: echo every message back, or broadcast it to a room; --page adds a browser client',
    defaultAddress: '127.0.0.1:8080',
    addressHelp: '":8080" for every interface',
    alpn: HTTP_ALPN,
    options: (cmd) =>
      cmd
        .option('--path <path>', 'where clients connect (default /echo, or /chat in broadcast mode)')
        .addOption(
          new Option('--mode <mode>', 'echo each message, or broadcast it to the room')
            .choices(['echo', 'broadcast'])
            .default('echo'),
        )
        .option('--page', 'serve a browser client at / (works with any WebSocket server URL)')
        .option(
          '--origin <origin>',
          "allow only this Origin, e.g. https://app.example (repeatable; the server's own is always allowed; others get 403)",
          collect,
          [],
        )
        .addOption(
          bytesOption(
            '--max-payload <bytes>',
            'largest message, after decompression; larger closes with 1009 (default 1MiB)',
          ),
        )
        .addOption(
          bytesOption(
            '--max-queue <bytes>',
            'data sent to a client and not yet read by it, kernel buffers included, before it is dropped with 1008 (default 2MiB, or twice --max-payload)',
          ),
        )
        .addOption(
          durationOption(
            '--heartbeat <duration>',
            'ping every client this often; drop one that misses a pong (0 = off)',
            '30s',
          ),
        )
        .option('--deflate', 'accept permessage-deflate compression')
        .option(
          '--subprotocol <name>',
          'a subprotocol this server speaks (repeatable, in order of preference)',
          collect,
          [],
        )
        .option(
          '--redis <url>',
          'share broadcast rooms with other instances through Redis pub/sub (redis://host:port)',
        ),
    flags: {
      maxConns: { help: 'open connections before upgrades get 503', default: 10_000, oldName: true },
      shutdownTimeout: { help: 'on Ctrl-C or SIGTERM, wait this long for clients to close', default: '5s' },
      quiet: 'do not print connections and messages',
      workers: 'processes sharing the address (node:cluster; rooms are shared between them)',
    },
    help: `
In broadcast mode the room is the rest of the path (/chat/lobby) or ?room=lobby;
every client of a room, the sender included, gets each message.

Examples:
  netkit ws serve                                   # echo at ws://127.0.0.1:8080/echo
  netkit ws serve --mode broadcast --page           # chat rooms, and a page at http://127.0.0.1:8080/
  netkit ws serve :8080 --mode broadcast --workers 2 --redis redis://127.0.0.1:6379
  netkit ws serve --tls                             # wss://, an ephemeral certificate
  netkit ws connect ws://127.0.0.1:8080/echo`,
    relay: (flags) => (flags.redis === undefined && flags.mode === 'broadcast' ? isBusMessage : undefined),
    describe: (flags, at) => {
      const notes = [
        flags.mode,
        ...(flags.redis !== undefined ? ['rooms shared through Redis'] : []),
        ...(at.workers > 1 ? [`${at.workers} workers`] : []),
      ];
      const url = at.url('ws', pathOf(flags));
      const page = flags.page ? at.url('http') : undefined;
      return {
        text: `listening ${url} (${notes.join(', ')})${page ? `; page at ${page}` : ''}`,
        fields: { url, ...(page ? { page } : {}) },
      };
    },
    start: async (listener, flags, cx) => {
      const { out, tag, worker } = cx;
      let bus: Bus | undefined;
      if (flags.redis !== undefined) {
        // Loaded only when asked for: most servers never talk to Redis.
        const { RedisBus } = await import('../../ws/bus/redis.js');
        const redis = new RedisBus(flags.redis);
        redis.onStatus((s) =>
          out.note(
            'redis',
            { state: s.state, reason: s.reason, ...tag },
            `redis ${s.state}${s.reason ? `: ${safeText(s.reason)}` : ''}`,
          ),
        );
        bus = redis;
      } else if (worker !== undefined) bus = new ClusterBus();
      keepHeapTop();
      sweepArrayBuffersInline();
      const server = await serveWs(listener, {
        path: pathOf(flags),
        mode: flags.mode,
        page: Boolean(flags.page),
        ...(flags.origin.length > 0 ? { origins: flags.origin } : {}),
        ...(flags.maxPayload !== undefined ? { maxPayload: flags.maxPayload } : {}),
        ...(flags.maxQueue !== undefined ? { maxQueueBytes: flags.maxQueue } : {}),
        heartbeat: flags.heartbeat,
        perMessageDeflate: Boolean(flags.deflate),
        protocols: flags.subprotocol,
        maxConnections: cx.setup.maxConns,
        shutdownTimeout: flags.shutdownTimeout,
        ...(bus ? { bus } : {}),
        ...(flags.quiet ? {} : { onEvent: (e: WsServerEvent) => report(out, e, tag) }),
      });
      return { close: () => server.close() };
    },
  });
}

// What glibc's mmap threshold becomes after keepHeapTop (the trim threshold is twice it): just under
// its 32 MiB ceiling on 64-bit, since a larger freed block raises nothing. A 16 KiB echo frees up to
// about 25 MiB of read buffers at one garbage collection; 8 MiB (a 16 MiB trim threshold) still let
// some runs trim.
const HEAP_TOP_BYTES = 30 * 1024 * 1024;

/**
 * keepHeapTop keeps memory this process reuses on every message from being
 * handed back to the kernel and faulted in again. Node allocates each
 * socket read's buffer with malloc; V8 frees a scavenge's worth of them at
 * once, and glibc then returns the top of its heap to the kernel whenever
 * more than its trim threshold is free there. That threshold starts low
 * and rises only when glibc frees a block it had mmapped, so a 16 KiB echo
 * server could trim after every scavenge and fault the same pages back in
 * for the next reads: about one page fault per message, depending on the
 * heap's layout. Freeing one mmapped block of HEAP_TOP_BYTES (it is never
 * touched, so it costs no memory) raises the thresholds to 30 and 60 MiB
 * for the rest of the process: up to 60 MiB freed at the top of the heap
 * stays with the process for its next reads, and blocks under 30 MiB come
 * from the heap rather than from mmap. Elsewhere than glibc it is one
 * allocation, freed at the first garbage collection.
 */
function keepHeapTop(): void {
  Buffer.allocUnsafeSlow(HEAP_TOP_BYTES);
}

/**
 * sweepArrayBuffersInline makes V8 free the memory of dead ArrayBuffers
 * during the scavenge that finds them dead, instead of in a background task
 * after it. Every socket read is a fresh ArrayBuffer outside the JavaScript
 * heap, and V8 counts that memory, until it is swept, toward the limit that
 * starts a full mark-compact. With the sweep left to a background thread —
 * which waits for the main thread wherever the server has one CPU, pinned
 * or busy — a 16 KiB echo at 32 connections showed 16–33 MiB of read
 * buffers still counted after each scavenge: enough to start a
 * mark-compact, whose new, tighter limit the next few hundred milliseconds
 * of reads exceeded again. The server then ran 5–20 mark-compacts per 6 s
 * run, their concurrent marking took about a fifth of its CPU, and its CPU
 * per message was 1.34× plain `ws`'s (median of six paired runs). Swept
 * inline, the buffers stop counting at each scavenge, the run has no
 * mark-compact after start-up, and CPU per message is 0.93× plain `ws`'s.
 * The flag is read at each sweep, so setting it here, once, is enough; it
 * is process-wide, which is why it lives in the command and not in serveWs.
 */
function sweepArrayBuffersInline(): void {
  setFlagsFromString('--no-concurrent-array-buffer-sweeping');
}

/** report prints one server event: a line for people, an object for --json. */
function report(out: Output, e: WsServerEvent, tag: Readonly<Record<string, unknown>>): void {
  switch (e.type) {
    case 'open':
      out.event(
        'open',
        {
          id: e.id,
          remote: e.remote,
          path: e.path,
          room: e.room,
          protocol: e.protocol,
          ...(e.subject === undefined ? {} : { subject: e.subject }),
          ...tag,
        },
        `${out.paint('green', '+')} #${e.id} ${e.remote}${e.subject === undefined ? '' : ` ${safeText(e.subject)}`} ${safeText(e.path)}${e.room ? ` (room ${safeText(e.room)})` : ''}`,
      );
      return;
    case 'close':
      out.event(
        'close',
        { id: e.id, remote: e.remote, code: e.code, reason: e.reason, messages: e.messagesIn, ...tag },
        `${out.paint('dim', '-')} #${e.id} ${e.remote} closed ${e.code}${e.reason ? ` ${safeText(e.reason)}` : ''} after ${e.messagesIn} messages`,
      );
      return;
    case 'message': {
      const body = e.binary ? { base64: e.data.toString('base64') } : { data: e.data.toString('utf8') };
      const human = e.binary ? `<binary ${e.data.length} bytes>` : safeText(e.data);
      out.event(
        'message',
        { id: e.id, room: e.room, type: e.binary ? 'binary' : 'text', bytes: e.data.length, ...body, ...tag },
        `#${e.id} ${human}`,
      );
      return;
    }
    case 'rejected':
      out.note(
        'rejected',
        { remote: e.remote, path: e.path, status: e.status, reason: e.reason, ...tag },
        `refused ${e.remote} ${safeText(e.path)}: ${e.status} ${e.reason}`,
      );
      return;
  }
}
