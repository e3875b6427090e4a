/** Releases: where they are, what they hold, and putting one in place of this venvoy. */
export * from "./location.ts";
export * from "./version.ts";
export * from "./sha256sums.ts";
export * from "./download.ts";
export * from "./self_replace.ts";
export * from "./rc_block.ts";
export * from "./key.ts";
export * from "./signature.ts";
