/** SHA256SUMS files, as `sha256sum` writes and checks them. */
import { VenvoyError } from "../ui/errors.ts";
import { sha256Hex } from "../util/hash.ts";

/** A downloaded file did not match its published checksum. */
export class ChecksumError extends VenvoyError {}

/**
 * "<64 hex>  <name>" (text mode) or "<64 hex> *<name>" (binary mode), one a line; blank
 * lines and `#` comments are skipped. Anything else is an error naming the line.
 */
export function parseSha256Sums(text: string, source = "SHA256SUMS"): Map<string, string> {
  const sums = new Map<string, string>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (!line.trim() || line.startsWith("#")) return;
    const m = line.match(/^([0-9a-fA-F]{64}) [ *](.+)$/);
    if (!m) {
      throw new VenvoyError(`${source} line ${i + 1} is not '<sha256>  <file>': ${line}`);
    }
    const [, hex, name] = m;
    const prev = sums.get(name);
    if (prev && prev !== hex.toLowerCase()) {
      throw new VenvoyError(`${source} lists ${name} twice, with different checksums`);
    }
    sums.set(name, hex.toLowerCase());
  });
  return sums;
}

/** The same format back, sorted by file name, as `sha256sum` prints it. */
export function formatSha256Sums(sums: Map<string, string> | Record<string, string>): string {
  const entries = sums instanceof Map ? [...sums] : Object.entries(sums);
  return entries
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, hex]) => `${hex}  ${name}\n`)
    .join("");
}

export { sha256Hex };

/** Throws unless `bytes` hash to what SHA256SUMS says for `name`. */
export async function verifySha256(
  name: string,
  bytes: Uint8Array,
  sums: Map<string, string>,
): Promise<void> {
  const expected = sums.get(name);
  if (!expected) {
    throw new ChecksumError(`SHA256SUMS has no entry for ${name}`, {
      hint: "the release is incomplete, or VENVOY_RELEASE_URL points at the wrong folder",
    });
  }
  const actual = await sha256Hex(bytes);
  if (actual !== expected) {
    throw new ChecksumError(
      `checksum mismatch for ${name}: SHA256SUMS says ${expected}, the download is ${actual}`,
      { hint: "the download was corrupted or tampered with; nothing was changed" },
    );
  }
}
