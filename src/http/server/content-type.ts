import path from 'node:path';

/**
 * Content types for static files, by extension. The values are those of
 * mime-db (what `send` and `express.static` answer) for the files a site or a
 * download directory usually holds; anything else is
 * `application/octet-stream`, which a browser downloads rather than renders.
 */

const UTF8 = '; charset=utf-8';

const TYPES: Readonly<Record<string, string>> = Object.freeze({
  // text: the charset is always stated, so a browser never guesses one
  html: `text/html${UTF8}`,
  htm: `text/html${UTF8}`,
  css: `text/css${UTF8}`,
  js: `text/javascript${UTF8}`,
  mjs: `text/javascript${UTF8}`,
  json: `application/json${UTF8}`,
  map: `application/json${UTF8}`,
  webmanifest: `application/manifest+json${UTF8}`,
  txt: `text/plain${UTF8}`,
  text: `text/plain${UTF8}`,
  log: `text/plain${UTF8}`,
  ini: `text/plain${UTF8}`,
  conf: `text/plain${UTF8}`,
  md: `text/markdown${UTF8}`,
  markdown: `text/markdown${UTF8}`,
  csv: `text/csv${UTF8}`,
  tsv: `text/tab-separated-values${UTF8}`,
  yaml: `text/yaml${UTF8}`,
  yml: `text/yaml${UTF8}`,
  ics: `text/calendar${UTF8}`,
  vtt: `text/vtt${UTF8}`,
  xml: 'application/xml',
  jsonld: 'application/ld+json',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  // images
  png: 'image/png',
  apng: 'image/apng',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  ico: 'image/vnd.microsoft.icon',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  // fonts
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  // audio and video
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  flac: 'audio/x-flac',
  mp4: 'video/mp4',
  m4v: 'video/x-m4v',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
  // archives
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  bz2: 'application/x-bzip2',
  xz: 'application/x-xz',
  '7z': 'application/x-7z-compressed',
});

/** contentTypeOf returns the Content-Type for a file name, from its extension (case-insensitive). */
export function contentTypeOf(name: string): string {
  const ext = path.extname(name).slice(1).toLowerCase();
  return (Object.hasOwn(TYPES, ext) ? TYPES[ext] : undefined) ?? 'application/octet-stream';
}
