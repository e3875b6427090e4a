import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { downloadVerified, fetchText, releaseVersion } from "../../../src/release/download.ts";
import { ChecksumError, formatSha256Sums, sha256Hex } from "../../../src/release/sha256sums.ts";
import { tempDir } from "../../fakes/tmp.ts";

const enc = new TextEncoder();
const ASSET = "venvoy-x86_64-unknown-linux-gnu";

async function releaseFiles(body: Uint8Array, listed = body): Promise<Record<string, Uint8Array>> {
  return {
    VERSION: enc.encode("0.2.0\n"),
    [ASSET]: body,
    SHA256SUMS: enc.encode(formatSha256Sums({ [ASSET]: await sha256Hex(listed) })),
  };
}

/** A release on 127.0.0.1: /good/, /tampered/, /redirect/ (302 to /good/), 404 otherwise. */
async function withServer(fn: (base: string) => Promise<void>): Promise<void> {
  const good = await releaseFiles(enc.encode("new venvoy"));
  const tampered = await releaseFiles(enc.encode("evil venvoy"), enc.encode("new venvoy"));
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
    const files = folder === "good" ? good : folder === "tampered" ? tampered : {};
    const body = files[file];
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

Deno.test("releaseVersion and downloadVerified over http, redirects followed", async () => {
  await withServer(async (base) => {
    assertEquals((await releaseVersion(`${base}/good`)).text, "0.2.0");
    assertEquals((await releaseVersion(`${base}/redirect`)).text, "0.2.0");
    const bytes = await downloadVerified(`${base}/redirect`, ASSET);
    assertEquals(new TextDecoder().decode(bytes), "new venvoy");
  });
});

Deno.test("downloadVerified refuses a tampered asset and an asset the release lacks", async () => {
  await withServer(async (base) => {
    await rejects(downloadVerified(`${base}/tampered`, ASSET), ChecksumError);
    await rejects(
      downloadVerified(`${base}/good`, "venvoy-riscv"),
      /the release at .*\/good has no venvoy-riscv/,
    );
  });
});

Deno.test("a missing file is an error naming the URL and the HTTP status", async () => {
  await withServer(async (base) => {
    await rejects(releaseVersion(`${base}/nowhere`), (e: Error & { hint?: string }) => {
      assert(e.message.includes(`could not download ${base}/nowhere/VERSION: HTTP 404`), e.message);
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
  try {
    for (const [name, bytes] of Object.entries(await releaseFiles(enc.encode("disk venvoy")))) {
      await Deno.writeFile(join(dir, name), bytes);
    }
    const base = pathToFileURL(dir).href;
    assertEquals((await releaseVersion(base)).text, "0.2.0");
    assertEquals(new TextDecoder().decode(await downloadVerified(base, ASSET)), "disk venvoy");
    await rejects(releaseVersion(`${base}/absent`), /could not download/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
