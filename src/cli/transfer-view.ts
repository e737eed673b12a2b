import { formatBytes, safeText } from '../internal/text.js';
import type { TransferEvent, TransferSummary } from '../transfer/events.js';
import type { Io } from './io.js';
import type { Output } from './output.js';

/** Rates are averaged over about this long: steady enough to read, quick enough to follow a real change. */
const RATE_WINDOW_MS = 1000;
/** A wider bar tells nothing more; the spare columns go to the file name. */
const MAX_BAR = 50;

export interface TransferViewOptions {
  /** quiet shows only the summary. */
  quiet?: boolean;
  /** now is a clock in milliseconds (tests inject one). */
  now?: () => number;
  /** intervalMs is the least time between two redraws (or JSON progress events) of one file. */
  intervalMs?: number;
}

interface FileState {
  size: number;
  bytes: number;
  startedAt: number;
  shownAt: number;
  /** samples are (time, position) pairs at each redraw, the oldest at least a rate window old. */
  samples: { t: number; bytes: number }[];
}

/**
 * TransferView shows a transfer as it runs: a bar per file on a terminal,
 * one line per finished file when piped, throttled events with --json.
 * File names come from the peer, so they are made printable before display.
 */
export class TransferView {
  readonly #out: Output;
  readonly #io: Io;
  readonly #mode: 'bars' | 'lines' | 'json' | 'quiet';
  readonly #now: () => number;
  readonly #interval: number;
  readonly #files = new Map<string, FileState>();
  /** #drawn is true while an unfinished bar sits on the terminal's current line. */
  #drawn = false;

  constructor(out: Output, io: Io, options: TransferViewOptions = {}) {
    this.#out = out;
    this.#io = io;
    this.#now = options.now ?? (() => performance.now());
    this.#interval = options.intervalMs ?? 100;
    if (options.quiet) this.#mode = 'quiet';
    else if (out.json) this.#mode = 'json';
    else this.#mode = io.stderr.isTTY ? 'bars' : 'lines';
  }

  /** onEvent receives every TransferEvent (progress arrives per chunk: throttle!). */
  onEvent(e: TransferEvent): void {
    if (e.type === 'wrong-code') {
      // A guess at the code is worth saying even with -q.
      this.clear();
      const slow = e.delayMs > 0 ? `: handshakes now wait ${(e.delayMs / 1000).toFixed(2)} s each` : '';
      this.#out.note(
        'wrong-code',
        { failures: e.failures, delayMs: e.delayMs },
        `a sender used a wrong code (${e.failures} in a row)${slow}`,
      );
      return;
    }
    if (this.#mode === 'quiet') return;
    if (e.type === 'file-end') {
      this.#end(e);
      return;
    }
    // Piped human output only reports finished files, so it keeps no per-file state.
    if (this.#mode === 'lines') return;
    const t = this.#now();
    if (e.type === 'file-start') {
      const state = newState(t, e.offset, e.size);
      this.#files.set(e.path, state);
      if (this.#mode === 'bars') this.#draw(e.path, state, 0);
      return;
    }
    let state = this.#files.get(e.path);
    if (state === undefined) {
      // No file-start seen: count from here, so the rate never includes bytes moved before we looked.
      state = newState(t, e.bytes, e.size);
      this.#files.set(e.path, state);
    }
    state.bytes = e.bytes;
    state.size = e.size;
    if (t - state.shownAt < this.#interval) return;
    state.shownAt = t;
    const rate = windowRate(state, t);
    if (this.#mode === 'bars') this.#draw(e.path, state, rate);
    else this.#out.event('progress', { path: e.path, bytes: e.bytes, total: e.size, rate: Math.round(rate) });
  }

  /** summary prints the final line (human) or the summary event (JSON) and clears any bar. */
  summary(s: TransferSummary): void {
    this.clear();
    this.#files.clear();
    const mibPerSec = s.seconds > 0 ? Math.round((s.sentBytes / 2 ** 20 / s.seconds) * 10) / 10 : 0;
    const {
      role,
      peer,
      subject,
      files,
      skipped,
      alreadyReceived,
      dirs,
      bytes,
      sentBytes,
      seconds,
      ok,
      error,
    } = s;
    const fields = {
      role,
      peer,
      ...(subject === undefined ? {} : { subject }),
      files,
      skipped,
      alreadyReceived,
      dirs,
      bytes,
      sentBytes,
      seconds,
      mibPerSec,
      ok,
    };
    this.#out.event('summary', error ? { ...fields, error } : fields, summaryLine(s));
  }

  /** clear wipes an unfinished bar, so other output can be written to the terminal. */
  clear(): void {
    if (!this.#drawn) return;
    this.#io.stderr.write('\r\x1b[K');
    this.#drawn = false;
  }

  #end(e: Extract<TransferEvent, { type: 'file-end' }>): void {
    const state = this.#files.get(e.path);
    this.#files.delete(e.path);
    const name = safeText(e.path);
    // Reasons are netkit's own words: the peer sends only a token for them.
    const why = e.reason ?? 'exists';
    if (this.#mode !== 'bars') {
      const resumed = e.resumedFrom > 0 ? `  (resumed at ${humanBytes(e.resumedFrom)})` : '';
      const human =
        e.status === 'skipped'
          ? `skipped  ${name} (${why})`
          : `${e.status.padEnd(8)} ${name}  ${humanBytes(e.size)}${resumed}`;
      const { path, size, sentBytes, resumedFrom, status, reason } = e;
      const fields = { path, size, sentBytes, resumedFrom, status, ...(reason ? { reason } : {}) };
      this.#out.event('file', fields, human);
      return;
    }
    const width = this.#width();
    let line: string;
    if (e.status === 'skipped') {
      const tail = ` skipped (${why})`;
      line = `${fitName(name, Math.max(1, width - 1 - tail.length))}${tail}`;
    } else {
      const elapsed = state ? this.#now() - state.startedAt : 0;
      // The average over this run only: a resumed prefix was not moved now.
      const average = e.sentBytes === 0 ? 0 : elapsed > 0 ? e.sentBytes / (elapsed / 1000) : Number.NaN;
      line = renderBar({ name: e.path, bytes: e.size, size: e.size, rateBps: average, width });
    }
    this.#io.stderr.write(`\r${line}\x1b[K\n`);
    this.#drawn = false;
  }

  #draw(path: string, state: FileState, rate: number): void {
    const line = renderBar({
      name: path,
      bytes: state.bytes,
      size: state.size,
      rateBps: rate,
      width: this.#width(),
    });
    // Clearing after the text, not before, keeps the line from flickering.
    this.#io.stderr.write(`\r${line}\x1b[K`);
    this.#drawn = true;
  }

  #width(): number {
    const columns = (this.#io.stderr as { columns?: number }).columns;
    return columns && columns > 0 ? columns : 80;
  }
}

function newState(t: number, bytes: number, size: number): FileState {
  return { size, bytes, startedAt: t, shownAt: t, samples: [{ t, bytes }] };
}

/** windowRate is bytes per second over the last rate window, then records this moment as a sample. */
function windowRate(state: FileState, t: number): number {
  const samples = state.samples;
  while (samples.length > 1 && t - samples[1]!.t >= RATE_WINDOW_MS) samples.shift();
  const first = samples[0]!;
  samples.push({ t, bytes: state.bytes });
  const dt = t - first.t;
  return dt > 0 ? Math.max(0, state.bytes - first.bytes) / (dt / 1000) : 0;
}

/** formatRate renders a transfer rate: `512 B/s`, `1.5 KiB/s`, `312.4 MiB/s`; `--` when unknown. */
export function formatRate(bytesPerSec: number): string {
  if (!Number.isFinite(bytesPerSec) || bytesPerSec < 0) return '--';
  if (bytesPerSec < 1024) return `${Math.round(bytesPerSec)} B/s`;
  const units = ['KiB/s', 'MiB/s', 'GiB/s', 'TiB/s'];
  let v = bytesPerSec / 1024;
  let u = 0;
  while (v >= 1023.95 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** formatEta renders a duration as `m:ss` or `h:mm:ss`; `--:--` when unknown or absurdly long. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  // Rounded up: "0:00" should mean done, not "less than half a second to go".
  const total = Math.ceil(seconds);
  if (total >= 100 * 3600) return '--:--';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** summaryLine is the human account of a whole transfer; files already received whole show as "already there". */
export function summaryLine(s: TransferSummary): string {
  const there = s.alreadyReceived;
  const left = [
    ...(s.skipped > there ? [`${s.skipped - there} skipped`] : []),
    ...(there > 0 ? [`${there} already there`] : []),
  ];
  const files = `${plural(s.files, 'file')}${left.length > 0 ? ` (${left.join(', ')})` : ''}`;
  const who = s.subject === undefined ? s.peer : `${s.peer} ${s.subject}`;
  const peer = `${s.role === 'send' ? 'to' : 'from'} ${safeText(who)}`;
  if (!s.ok) {
    const why = s.error ? `${safeText(s.error.message)} [${safeText(s.error.code)}]` : 'unknown error';
    return `${s.role === 'send' ? 'send' : 'receive'} ${peer} failed after ${files}: ${why}`;
  }
  const thisRun = s.sentBytes < s.bytes ? ` (${humanBytes(s.sentBytes)} this run)` : '';
  const rate = s.seconds > 0 ? ` (${formatRate(s.sentBytes / s.seconds)})` : '';
  const took = s.seconds < 60 ? `${s.seconds.toFixed(2)} s` : formatEta(s.seconds);
  return `${s.role === 'send' ? 'sent' : 'received'} ${files}, ${humanBytes(s.bytes)}${thisRun} in ${took}${rate} ${peer}`;
}

type BarState = { name: string; bytes: number; size: number; rateBps: number; width: number };

/** renderBar is one progress line, its name made printable, that fits in `width` columns (one spare, so the terminal never wraps). */
export function renderBar(p: BarState): string {
  const done = p.size <= 0 ? 1 : Math.min(1, Math.max(0, p.bytes / p.size));
  const left = Math.max(0, p.size - p.bytes);
  const eta = left === 0 ? 0 : p.rateBps > 0 ? left / p.rateBps : Number.POSITIVE_INFINITY;
  const amounts = `${humanBytes(Math.min(p.bytes, Math.max(p.size, 0)))}/${humanBytes(p.size)}`;
  // Fixed-width fields, so the numbers stay put while they change.
  const tail = ` ${`${Math.floor(done * 100)}%`.padStart(4)} ${amounts.padStart(17)} ${formatRate(p.rateBps).padStart(11)} ${formatEta(eta).padStart(7)}`;
  const usable = Math.max(1, p.width - 1);
  const room = usable - tail.length;
  // Cleaned here too, since callers may hand over a name straight from the peer; cleaning is idempotent.
  const name = safeText(p.name);
  const nameCols = columns(name);
  let nameWidth = Math.min(nameCols, Math.max(10, Math.floor(usable * 0.4)));
  const inner = Math.min(MAX_BAR, room - nameWidth - 3);
  let bar = '';
  if (inner < 5) {
    nameWidth = Math.max(1, Math.min(nameCols, room));
  } else {
    nameWidth = Math.min(nameCols, room - 3 - inner);
    const filled = Math.floor(done * inner);
    bar = ` [${'#'.repeat(filled)}${'-'.repeat(inner - filled)}]`;
  }
  const line = `${fitName(name, nameWidth)}${bar}${tail}`;
  return columns(line) <= usable ? line : fitName(line, usable);
}

/** fitName shortens text to `max` columns by cutting its middle, where paths say least. */
function fitName(text: string, max: number): string {
  if (columns(text) <= max) return text;
  if (max <= 1) return '…'.slice(0, Math.max(0, max));
  const chars = Array.from(text);
  let head = '';
  let tail = '';
  let headCols = 0;
  let tailCols = 0;
  for (let i = 0, j = chars.length - 1; i <= j; ) {
    const takeHead = headCols <= tailCols;
    const ch = takeHead ? chars[i]! : chars[j]!;
    const w = columns(ch);
    if (1 + headCols + tailCols + w > max) break;
    if (takeHead) {
      head += ch;
      headCols += w;
      i++;
    } else {
      tail = ch + tail;
      tailCols += w;
      j--;
    }
  }
  return `${head}…${tail}`;
}

/** WIDE holds [first, last] code point pairs that take two terminal cells: East Asian wide and most emoji. */
const WIDE = [
  0x1100, 0x115f, 0x2e80, 0xa4cf, 0xac00, 0xd7a3, 0xf900, 0xfaff, 0xfe30, 0xfe4f, 0xff00, 0xff60, 0xffe0,
  0xffe6, 0x1f300, 0x1faff, 0x20000, 0x3fffd,
];

/** columns estimates how many terminal cells text takes. */
function columns(text: string): number {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    let wide = false;
    for (let i = 0; i < WIDE.length && !wide; i += 2) wide = c >= WIDE[i]! && c <= WIDE[i + 1]!;
    n += wide ? 2 : 1;
  }
  return n;
}

/** humanBytes is formatBytes with a space before the unit, to match the rates beside it. */
function humanBytes(n: number): string {
  return formatBytes(n).replace(/(?<=\d)(?=[KMGT]?i?B$)/, ' ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
