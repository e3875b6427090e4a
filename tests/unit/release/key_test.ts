import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RELEASE_PUBLIC_KEY_PEM, releaseKey } from "../../../src/release/key.ts";
import { generateKeyPair } from "../../../src/release/signature.ts";
import { EXIT, UsageError } from "../../../src/ui/errors.ts";
import { KEY_SOURCES, updateSources } from "../../../scripts/release_keygen.ts";
import { tempDir } from "../../fakes/tmp.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const PEM = /-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END PUBLIC KEY-----/g;

Deno.test("install.sh, install.ps1, key.ts and docs/install.md hold the same Ed25519 key", async () => {
  for (const file of KEY_SOURCES) {
    const found = (await Deno.readTextFile(join(root, file))).match(PEM) ?? [];
    assertEquals(found, [RELEASE_PUBLIC_KEY_PEM.trim()], file);
  }
  const der = Uint8Array.from(
    atob(RELEASE_PUBLIC_KEY_PEM.replace(/-----[^-]+-----|\s/g, "")),
    (c) => c.charCodeAt(0),
  );
  const key = await crypto.subtle.importKey("spki", der, "Ed25519", true, ["verify"]);
  assertEquals(key.algorithm.name, "Ed25519");
});

Deno.test("releaseKey: the built-in key, or VENVOY_RELEASE_PUBKEY's file, said as such", async () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assertEquals(await releaseKey(env({})), {
    pem: RELEASE_PUBLIC_KEY_PEM,
    source: "the built-in release key",
    builtIn: true,
  });
  assertEquals((await releaseKey(env({ VENVOY_RELEASE_PUBKEY: " " }))).builtIn, true);
  const dir = await tempDir("venvoy-key-");
  const file = join(dir, "k.pem");
  await Deno.writeTextFile(file, "PEM");
  assertEquals(await releaseKey(env({ VENVOY_RELEASE_PUBKEY: file })), {
    pem: "PEM",
    source: file,
    builtIn: false,
  });
  await rejects(releaseKey(env({ VENVOY_RELEASE_PUBKEY: join(dir, "absent") })), (e: Error) => {
    assert(e instanceof UsageError);
    assertEquals(e.exitCode, EXIT.usage);
    return /VENVOY_RELEASE_PUBKEY names .*absent, which cannot be read/.test(e.message);
  });
});

Deno.test("release_keygen --update-sources replaces the key in all four files, nothing else", async () => {
  const dir = await tempDir("venvoy-keygen-");
  const before: Record<string, string> = {};
  for (const file of KEY_SOURCES) {
    before[file] = await Deno.readTextFile(join(root, file));
    await Deno.mkdir(join(dir, file, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, file), before[file]);
  }
  const { publicPem } = await generateKeyPair();
  await updateSources(publicPem, dir);
  for (const file of KEY_SOURCES) {
    const after = await Deno.readTextFile(join(dir, file));
    assertEquals(after.match(PEM), [publicPem.trim()], file);
    assertEquals(after.replace(publicPem.trim(), RELEASE_PUBLIC_KEY_PEM.trim()), before[file]);
  }
});
