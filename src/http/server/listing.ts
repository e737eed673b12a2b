import { escapeHtml, htmlPage } from '../../internal/html.js';

/**
 * Directory listings for `dir` mode: the entries as data, and as an HTML page
 * in which every name is HTML-escaped and every link percent-encoded.
 */

/** ListingEntry is one entry of a directory listing. */
export interface ListingEntry {
  name: string;
  type: 'file' | 'dir';
  /** size is the file's length in bytes; 0 for a directory. */
  size: number;
  /** mtime is the last modification time, ISO 8601 in UTC. */
  mtime: string;
}

/** sortListing orders directories first, then by name (code-unit order, so it is stable across locales). */
export function sortListing(entries: ListingEntry[]): ListingEntry[] {
  return entries.sort((a, b) => {
    if (a.type !== b.type) return a.type === 'dir' ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** formatSize renders a byte count for people: `512 B`, `1.5 KiB`, `3.0 MiB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let n = bytes / 1024;
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${n.toFixed(1)} ${UNITS[unit]}`;
}

function row(href: string, name: string, size: string, mtime: string): string {
  return `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(name)}</a></td><td class="n">${escapeHtml(size)}</td><td>${escapeHtml(mtime)}</td></tr>`;
}

/**
 * renderListingHtml renders the listing of `urlPath` (decoded, ending in `/`)
 * as a standalone page. Links are relative, so the page must be served at the
 * slash form of the directory's URL; `..` is offered unless `atRoot`.
 */
export function renderListingHtml(urlPath: string, entries: ListingEntry[], atRoot: boolean): string {
  const rows: string[] = [];
  if (!atRoot) rows.push(row('../', '../', '', ''));
  for (const e of entries) {
    const dir = e.type === 'dir';
    const when = `${e.mtime.slice(0, 10)} ${e.mtime.slice(11, 19)} UTC`;
    rows.push(
      row(
        `${encodeURIComponent(e.name)}${dir ? '/' : ''}`,
        dir ? `${e.name}/` : e.name,
        dir ? '-' : formatSize(e.size),
        when,
      ),
    );
  }
  if (entries.length === 0) rows.push('<tr><td colspan="3"><em>empty</em></td></tr>');
  return htmlPage(
    `Index of ${urlPath}`,
    `th, td { padding: 0.2em 1em 0.2em 0; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }`,
    `<table>
<tr><th>Name</th><th>Size</th><th>Modified</th></tr>
${rows.join('\n')}
</table>`,
  );
}
