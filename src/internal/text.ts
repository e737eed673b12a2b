/**
 * Text helpers for showing untrusted bytes to people: nothing raw from the
 * network reaches a terminal, so a peer cannot send escape sequences that
 * rewrite the screen.
 */

/** unescapeText expands `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` typed on a command line. */
export function unescapeText(text: string): Buffer {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== 0x5c || i + 1 >= raw.length) {
      bytes.push(c);
      continue;
    }
    const n = String.fromCharCode(raw[i + 1]!);
    const simple: Record<string, number> = { r: 13, n: 10, t: 9, '0': 0, '\\': 0x5c };
    if (n in simple) {
      bytes.push(simple[n]!);
      i++;
    } else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(raw.toString('latin1', i + 2, i + 4))) {
      bytes.push(Number.parseInt(raw.toString('latin1', i + 2, i + 4), 16));
      i += 3;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes);
}

/** safeText decodes bytes as UTF-8 and replaces control characters (except tab) with visible escapes. */
export function safeText(bytes: Uint8Array, keepNewlines = false): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]|\n/g, (ch) => {
    if (ch === '\n') return keepNewlines ? '\n' : '\\n';
    if (ch === '\r') return '\\r';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** hexDump renders bytes like `xxd`: offset, 16 hex bytes, and printable ASCII. */
export function hexDump(bytes: Uint8Array, offset = 0): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
    const pairs: string[] = [];
    for (let j = 0; j < hex.length; j += 2) pairs.push(hex.slice(j, j + 2).join(''));
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(offset + i).toString(16).padStart(8, '0')}: ${pairs.join(' ').padEnd(39)}  ${ascii}`);
  }
  return lines.join('\n');
}

/** formatBytes renders a byte count for people: `512B`, `1.5KiB`, `3.2MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)}${units[u]}`;
}
