/**
 * Release folders for the release tests, signed with a key made for the test module (never
 * the built-in one), and the mirror attacks: a folder whose binary and SHA256SUMS were both
 * replaced, with no signature, the old one, or one by the attacker's own key.
 */
import { join } from "node:path";
import { formatSha256Sums, sha256Hex } from "../../../src/release/sha256sums.ts";
import { generateKeyPair, signData } from "../../../src/release/signature.ts";
import type { ReleaseKey } from "../../../src/release/key.ts";

export const enc = new TextEncoder();

export interface TestKey {
  privatePem: string;
  /** As releaseKey() returns an override: what update and openRelease trust. */
  key: ReleaseKey;
}

export async function testKey(): Promise<TestKey> {
  const { privatePem, publicPem } = await generateKeyPair();
  return { privatePem, key: { pem: publicPem, source: "the test key", builtIn: false } };
}

export type Signature = "signed" | "none" | "old" | "attacker";

export interface ReleaseSpec {
  version: string;
  /** Asset name -> its bytes. */
  assets: Record<string, Uint8Array>;
  signer: TestKey;
}

/** VERSION, the assets, SHA256SUMS of them all and SHA256SUMS.sig by `signer`. */
export async function signedRelease(spec: ReleaseSpec): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = { VERSION: enc.encode(`${spec.version}\n`) };
  Object.assign(files, spec.assets);
  const sums: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(files)) sums[name] = await sha256Hex(bytes);
  files.SHA256SUMS = enc.encode(formatSha256Sums(sums));
  files["SHA256SUMS.sig"] = enc.encode(await signData(files.SHA256SUMS, spec.signer.privatePem));
  return files;
}

/**
 * The mirror attack: `release` with `name` replaced by `evil` and SHA256SUMS rewritten to
 * match it, so every checksum is consistent; the signature is then absent, the release's
 * own (now over other bytes), or the attacker's, made with a key of their own.
 */
export async function tamperedMirror(
  release: Record<string, Uint8Array>,
  options: { name: string; evil: Uint8Array; signature: Exclude<Signature, "signed"> },
): Promise<Record<string, Uint8Array>> {
  const files = { ...release, [options.name]: options.evil };
  const sums: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(files)) {
    if (!name.startsWith("SHA256SUMS")) sums[name] = await sha256Hex(bytes);
  }
  files.SHA256SUMS = enc.encode(formatSha256Sums(sums));
  if (options.signature === "none") delete files["SHA256SUMS.sig"];
  if (options.signature === "attacker") {
    const attacker = await testKey();
    files["SHA256SUMS.sig"] = enc.encode(await signData(files.SHA256SUMS, attacker.privatePem));
  }
  return files;
}

export async function writeFolder(dir: string, files: Record<string, Uint8Array>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(join(dir, name), bytes);
}
