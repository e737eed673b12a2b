// Types for scripts/build-if-stale.mjs, so its decision can be tested from TypeScript.
export declare const STAMP: string;
export declare const INPUTS: readonly string[];
export declare const ENTRY: string;
export declare function newestMtimeMs(dir: string): number;
export declare function staleReason(root: string): string | undefined;
