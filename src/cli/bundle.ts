/**
 * The CLI entry point's choice between a command's bundle and the modules
 * tsc wrote. `npm run build` bundles the short-lived client commands
 * (scripts/bundle-cli.mjs) because loading one file starts much faster than
 * loading the ~55 ES modules behind `netkit tcp connect` one by one. A bundle
 * is used only while it is at least as new as every file it was built from:
 * after a later tsc, or with no bundles at all, the CLI runs from dist/ as
 * before, so a bundle can make a command faster but never older.
 */
import { readFileSync, statSync } from 'node:fs';

/** BundleEntry is one bundle in dist/cli/bundles/manifest.json. */
export interface BundleEntry {
  /** argv is what the command line starts with for this bundle (`['tcp', 'connect']`). */
  readonly argv: readonly string[];
  /** file is the bundle's file name, beside the manifest. */
  readonly file: string;
  /** builtMs is the bundle's mtime when it was written. */
  readonly builtMs: number;
  /** inputs are the files it was built from, relative to the manifest's directory. */
  readonly inputs: readonly string[];
}

/** BundleManifest is dist/cli/bundles/manifest.json. */
export interface BundleManifest {
  readonly bundles: readonly BundleEntry[];
}

/** matchBundle returns the entry whose argv the command line starts with, if any. */
export function matchBundle(manifest: BundleManifest, argv: readonly string[]): BundleEntry | undefined {
  return manifest.bundles.find((b) => b.argv.every((word, i) => argv[i] === word));
}

/**
 * isFresh says whether a bundle still matches its inputs: it exists with the
 * mtime it was written with, and none of its inputs is missing or newer.
 */
export function isFresh(dir: URL, entry: BundleEntry, mtimeMs: (url: URL) => number | undefined): boolean {
  if (mtimeMs(new URL(entry.file, dir)) !== entry.builtMs) return false;
  for (const input of entry.inputs) {
    const t = mtimeMs(new URL(input, dir));
    if (t === undefined || t > entry.builtMs) return false;
  }
  return true;
}

function statMtimeMs(url: URL): number | undefined {
  return statSync(url, { throwIfNoEntry: false })?.mtimeMs;
}

/**
 * bundleFor returns the URL of a fresh bundle for this command line, or
 * undefined (no manifest, no bundle for the command, or a stale one). The
 * check costs one small read and a stat per input, far less than the
 * module loading a bundle saves.
 */
export function bundleFor(dir: URL, argv: readonly string[]): URL | undefined {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as BundleManifest;
  } catch {
    return undefined;
  }
  const entry = matchBundle(manifest, argv);
  if (entry === undefined || !isFresh(dir, entry, statMtimeMs)) return undefined;
  return new URL(entry.file, dir);
}
