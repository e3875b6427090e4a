import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  downloadAsset,
  fetchText,
  isDowngrade,
  openRelease,
} from "../../../src/release/download.ts";
import { ChecksumError } from "../../../src/release/sha256sums.ts";
import { SignatureError } from "../../../src/release/signature.ts";
import { RELEASE_PUBLIC_KEY_PEM, type ReleaseKey } from "../../../src/release/key.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { enc, signedRelease, tamperedMirror, testKey, writeFolder } from "./signed_release.ts";

const ASSET = "venvoy-x86_64-unknown-linux-gnu";
const signer = await testKey();
const KEY = signer.key;
const good = await signedRelease({
  version: "0.2.0",
  assets: { [ASSET]: enc.encode("new venvoy") },
  signer,
});

type Folders = Record<string, Record<string, Uint8Array>>;

/** Release folders on 127.0.0.1 (/redirect/ answers 302 to /good/), 404 otherwise. */
async function withServer(folders: Folders, fn: (base: string) => Promise<void>): Promise<void> {
  const ac = new AbortController();
  let port = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: (addr) => port = addr.port,
  }, (req) => {
    const [, folder, file] = new URL(req.url).pathname.split("/");
    if (folder === "redirect") {
      return Response.redirect(`http://127.0.0.1:${port}/good/${file}`, 302);
    }
    const body = (folders[folder] ?? {})[file];
    return body
      ? new Response(body as Uint8Array<ArrayBuffer>)
      : new Response("not found", { status: 404 });
  });
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    ac.abort();
    await server.finished;
  }
}

Deno.test("openRelease and downloadAsset over http, redirects followed", async () => {
  await withServer({ good }, async (base) => {
    assertEquals((await openRelease(`${base}/good`, KEY)).version.text, "0.2.0");
    const release = await openRelease(`${base}/redirect`, KEY);
    assertEquals(release.version.text, "0.2.0");
    assertEquals(new TextDecoder().decode(await downloadAsset(release, ASSET)), "new venvoy");
  });
});

Deno.test("downloadAsset refuses a tampered asset and an asset the release lacks", async () => {
  // Only the binary changed: SHA256SUMS (and its signature) still name the old bytes.
  const tampered = { ...good, [ASSET]: enc.encode("evil venvoy") };
  await withServer({ good, tampered }, async (base) => {
    await rejects(downloadAsset(await openRelease(`${base}/tampered`, KEY), ASSET), ChecksumError);
    await rejects(
      downloadAsset(await openRelease(`${base}/good`, KEY), "venvoy-riscv"),
      /the release at .*\/good has no venvoy-riscv/,
    );
  });
});

Deno.test("the mirror attack: binary and SHA256SUMS replaced consistently is refused", async () => {
  const evil = enc.encode("evil venvoy");
  const folders: Folders = {};
  for (const signature of ["none", "old", "attacker"] as const) {
    folders[signature] = await tamperedMirror(good, { name: ASSET, evil, signature });
  }
  await withServer(folders, async (base) => {
    await rejects(openRelease(`${base}/none`, KEY), (e: Error & { hint?: string }) => {
      assert(e instanceof SignatureError, String(e));
      assert(e.message.startsWith(`the release at ${base}/none is not signed`), e.message);
      assert(/nothing was changed/.test(e.hint ?? ""));
      return true;
    });
    for (const folder of ["old", "attacker"]) {
      await rejects(openRelease(`${base}/${folder}`, KEY), (e: Error) => {
        assert(e instanceof SignatureError, String(e));
        assertEquals(
          e.message,
          `${base}/${folder}/SHA256SUMS.sig is not a valid signature by the test key`,
        );
        return true;
      });
    }
  });
});

Deno.test("a release signed by another key is refused by the built-in key", async () => {
  await withServer({ good }, async (base) => {
    const builtIn: ReleaseKey = {
      pem: RELEASE_PUBLIC_KEY_PEM,
      source: "the built-in release key",
      builtIn: true,
    };
    await rejects(openRelease(`${base}/good`, builtIn), /not a valid signature by the built-in/);
  });
});

Deno.test("VERSION must match the signed SHA256SUMS: a mirror cannot relabel a release", async () => {
  const relabelled = { ...good, VERSION: enc.encode("9.9.9\n") };
  await withServer({ relabelled }, async (base) => {
    await rejects(openRelease(`${base}/relabelled`, KEY), (e: Error) => {
      assert(e instanceof ChecksumError, String(e));
      assert(e.message.startsWith("checksum mismatch for VERSION"), e.message);
      return true;
    });
  });
});

Deno.test("a missing file is an error naming the URL and the HTTP status", async () => {
  await withServer({}, async (base) => {
    await rejects(openRelease(`${base}/nowhere`, KEY), (e: Error & { hint?: string }) => {
      assert(
        e.message.includes(`could not download ${base}/nowhere/SHA256SUMS: HTTP 404`),
        e.message,
      );
      assert(/VENVOY_RELEASE_URL/.test(e.hint ?? ""));
      return true;
    });
  });
});

Deno.test("an unreachable server is an error, not a hang", async () => {
  // Port 9 on loopback: nothing listens there; the connection is refused at once.
  await rejects(fetchText("http://127.0.0.1:9/VERSION"), /could not download http:\/\/127.0.0.1:9/);
});

Deno.test("a release folder on disk works through file:// URLs", async () => {
  const dir = await tempDir("venvoy release ");
  await writeFolder(dir, good);
  const base = pathToFileURL(dir).href;
  const release = await openRelease(base, KEY);
  assertEquals(release.version.text, "0.2.0");
  assertEquals(new TextDecoder().decode(await downloadAsset(release, ASSET)), "new venvoy");
  await rejects(openRelease(`${base}/absent`, KEY), /could not download/);
  await Deno.remove(join(dir, "SHA256SUMS.sig"));
  await rejects(openRelease(base, KEY), SignatureError);
});

Deno.test("a redirect may not leave https", () => {
  assertEquals(isDowngrade("https://github.com/a", "http://evil.example/a"), true);
  assertEquals(isDowngrade("HTTPS://github.com/a", "file:///etc/passwd"), true);
  assertEquals(isDowngrade("https://github.com/a", "https://objects.example/a"), false);
  assertEquals(isDowngrade("http://127.0.0.1/a", "http://127.0.0.1/b"), false); // --insecure-http
});
