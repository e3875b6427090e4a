/**
 * deno run -A scripts/release_keygen.ts --out DIR [--update-sources]
 *
 * Makes a new Ed25519 release key pair: DIR/private.pem (PKCS#8, mode 0600) and
 * DIR/public.pem (SubjectPublicKeyInfo). It never overwrites a key. --update-sources
 * writes the public key into the three places venvoy trusts it from (src/release/key.ts,
 * install.sh, install.ps1) and into docs/install.md; tests/unit/release/key_test.ts holds
 * the four equal.
 *
 * The same with openssl:
 *   openssl genpkey -algorithm ed25519 -out private.pem
 *   openssl pkey -in private.pem -pubout -out public.pem
 *
 * The private key goes into the repository's VENVOY_SIGNING_KEY secret (the whole PEM text)
 * and then off every disk: docs/install.md, "Signing releases".
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPair } from "../src/release/signature.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
export const KEY_SOURCES = ["src/release/key.ts", "install.sh", "install.ps1", "docs/install.md"];
const PEM_LITERAL = /-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END PUBLIC KEY-----/g;

/** Writes DIR/private.pem and DIR/public.pem; refuses to replace either. */
export async function writeKeyPair(
  dir: string,
): Promise<{ privateFile: string; publicFile: string }> {
  const { privatePem, publicPem } = await generateKeyPair();
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const privateFile = join(dir, "private.pem");
  const publicFile = join(dir, "public.pem");
  await Deno.writeTextFile(privateFile, privatePem, { createNew: true, mode: 0o600 });
  await Deno.writeTextFile(publicFile, publicPem, { createNew: true, mode: 0o644 });
  return { privateFile, publicFile };
}

/** Puts `publicPem` in place of the key literal in each of KEY_SOURCES (exactly one each). */
export async function updateSources(publicPem: string, base = root): Promise<void> {
  const literal = publicPem.trim().replace(/\r/g, "");
  for (const file of KEY_SOURCES) {
    const path = join(base, file);
    const text = await Deno.readTextFile(path);
    const found = text.match(PEM_LITERAL) ?? [];
    if (found.length !== 1) throw new Error(`${file} holds ${found.length} public keys, not 1`);
    await Deno.writeTextFile(path, text.replace(PEM_LITERAL, () => literal));
  }
}

if (import.meta.main) {
  const args = [...Deno.args];
  const at = args.indexOf("--out");
  const out = at >= 0 ? args[at + 1] : undefined;
  if (!out || args.some((a, i) => i !== at && i !== at + 1 && a !== "--update-sources")) {
    console.error("usage: deno run -A scripts/release_keygen.ts --out DIR [--update-sources]");
    Deno.exit(2);
  }
  const { privateFile, publicFile } = await writeKeyPair(out);
  console.error(`release_keygen: wrote ${privateFile} (secret) and ${publicFile}`);
  if (args.includes("--update-sources")) {
    await updateSources(await Deno.readTextFile(publicFile));
    console.error(
      `release_keygen: the public key is now in ${KEY_SOURCES.join(", ")}; commit them`,
    );
  }
  console.error(
    "Next: store the whole text of private.pem as the repository secret VENVOY_SIGNING_KEY\n" +
      "(gh secret set VENVOY_SIGNING_KEY < private.pem), keep an offline backup, and delete it here.",
  );
}
