import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DenoRunner } from "../../../src/process/mod.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { update } from "../../../src/commands/update_action.ts";
import type { CommandContext } from "../../../src/commands/context.ts";
import { SignatureError } from "../../../src/release/signature.ts";
import { EXIT, UsageError } from "../../../src/ui/errors.ts";
import { tempDir } from "../../fakes/tmp.ts";
import {
  enc,
  type Signature,
  signedRelease,
  tamperedMirror,
  testKey,
  writeFolder,
} from "./signed_release.ts";

const TARGET = "x86_64-unknown-linux-gnu";
const ASSET = `venvoy-${TARGET}`;
const prog = (version: string) => enc.encode(`#!/bin/sh\necho ${version}\n`);
/** The attacker's binary answers --version as the real one does. */
const evilProg = (version: string) => enc.encode(`#!/bin/sh\necho ${version}\n# evil\n`);
const signer = await testKey();

interface Fixture {
  dir: string;
  self: string;
  ctx: CommandContext;
}

/**
 * A release folder (file://) holding `version`, signed with the test key, which the
 * context trusts through VENVOY_RELEASE_PUBKEY; and an installed venvoy saying 0.1.0.
 * `signature` other than "signed" turns the folder into a mirror whose binary (`body`)
 * and SHA256SUMS were both replaced (tamperedMirror).
 */
async function fixture(
  version: string,
  options: {
    body?: Uint8Array;
    listed?: Uint8Array;
    signature?: Signature;
    env?: Record<string, string>;
  } = {},
): Promise<Fixture> {
  const dir = await tempDir("venvoy-update-");
  const rel = join(dir, "release");
  const body = options.body ?? prog(version);
  const mirror = options.signature && options.signature !== "signed";
  let files = await signedRelease({
    version,
    assets: { [ASSET]: options.listed ?? (mirror ? prog(version) : body) },
    signer,
  });
  if (options.signature && options.signature !== "signed") {
    files = await tamperedMirror(files, { name: ASSET, evil: body, signature: options.signature });
  } else {
    files[ASSET] = body;
  }
  await writeFolder(rel, files);
  await Deno.writeTextFile(join(dir, "test-key.pem"), signer.key.pem);
  const self = join(dir, "bin", "venvoy");
  await Deno.mkdir(join(dir, "bin"));
  await Deno.writeFile(self, prog("0.1.0"), { mode: 0o755 });
  const env: Record<string, string> = {
    HOME: dir,
    VENVOY_RELEASE_URL: pathToFileURL(rel).href,
    VENVOY_RELEASE_PUBKEY: join(dir, "test-key.pem"),
    ...options.env,
  };
  return {
    dir,
    self,
    ctx: {
      runner: new DenoRunner({ env }),
      engine: null,
      debug: false,
      paths: statePaths((n) => env[n]),
    },
  };
}

const installed = async (f: Fixture) => await Deno.readTextFile(f.self);

Deno.test("update replaces an older venvoy with the release's, verified", async () => {
  const f = await fixture("0.2.0");
  try {
    await update(f.ctx, {}, { current: "0.1.0", self: f.self, target: TARGET });
    assertEquals(await installed(f), "#!/bin/sh\necho 0.2.0\n");
    assertEquals((await Array.fromAsync(Deno.readDir(join(f.dir, "bin")))).length, 1);
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("update --check only reports; a current or older release changes nothing", async () => {
  for (const [version, check] of [["0.2.0", true], ["0.1.0", false], ["0.0.9", false]] as const) {
    const f = await fixture(version);
    try {
      await update(f.ctx, { check }, { current: "0.1.0", self: f.self, target: TARGET });
      assertEquals(await installed(f), "#!/bin/sh\necho 0.1.0\n", version);
    } finally {
      await Deno.remove(f.dir, { recursive: true });
    }
  }
});

Deno.test("update refuses a tampered download and keeps this venvoy", async () => {
  const f = await fixture("0.2.0", { body: prog("0.2.0 evil"), listed: prog("0.2.0") });
  try {
    await rejects(
      update(f.ctx, {}, { current: "0.1.0", self: f.self, target: TARGET }),
      /checksum mismatch for venvoy-x86_64-unknown-linux-gnu/,
    );
    assertEquals(await installed(f), "#!/bin/sh\necho 0.1.0\n");
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("a mirror that replaced the binary and SHA256SUMS is refused, unsigned or not", async () => {
  // Each mirror's checksums are consistent: only the signature can tell. The old code
  // installed all three.
  for (const signature of ["none", "old", "attacker"] as const) {
    const f = await fixture("0.2.0", { body: evilProg("0.2.0"), signature });
    await rejects(
      update(f.ctx, {}, { current: "0.1.0", self: f.self, target: TARGET }),
      (e: Error & { hint?: string; exitCode?: number }) => {
        assert(e instanceof SignatureError, `${signature}: ${e}`);
        assertEquals(e.exitCode, EXIT.failure);
        assert(/nothing was changed/.test(e.hint ?? ""), signature);
        return true;
      },
    );
    assertEquals(await installed(f), "#!/bin/sh\necho 0.1.0\n", signature);
    assertEquals((await Array.fromAsync(Deno.readDir(join(f.dir, "bin")))).length, 1);
  }
});

Deno.test("update --check trusts no unsigned VERSION either", async () => {
  const f = await fixture("0.2.0", { body: evilProg("0.2.0"), signature: "none" });
  await rejects(
    update(f.ctx, { check: true }, { current: "0.1.0", target: TARGET }),
    SignatureError,
  );
});

Deno.test("without VENVOY_RELEASE_PUBKEY, the built-in key refuses a test-signed release", async () => {
  const f = await fixture("0.2.0", { env: { VENVOY_RELEASE_PUBKEY: "" } });
  await rejects(
    update(f.ctx, {}, { current: "0.1.0", self: f.self, target: TARGET }),
    /SHA256SUMS.sig is not a valid signature by the built-in release key/,
  );
  assertEquals(await installed(f), "#!/bin/sh\necho 0.1.0\n");
});

Deno.test("update refuses plain http:// unless --insecure-http or VENVOY_INSECURE_HTTP=1", async () => {
  const f = await fixture("0.2.0");
  const deps = { current: "0.1.0", self: f.self, target: TARGET };
  const http = "http://127.0.0.1:9/venvoy";
  for (const opts of [{ releaseUrl: http }, { releaseUrl: "HTTP://127.0.0.1:9/venvoy" }]) {
    await rejects(update(f.ctx, opts, deps), (e: Error & { exitCode?: number; hint?: string }) => {
      assert(e instanceof UsageError, String(e));
      assertEquals(e.exitCode, EXIT.usage);
      assert(e.message.startsWith("refusing a plain http:// release URL"), e.message);
      assert(/--insecure-http/.test(e.hint ?? ""));
      return true;
    });
  }
  // Allowed, it goes on to download (nothing listens on port 9).
  await rejects(
    update(f.ctx, { releaseUrl: http, insecureHttp: true }, deps),
    /could not download/,
  );
  const g = await fixture("0.2.0", {
    env: { VENVOY_RELEASE_URL: http, VENVOY_INSECURE_HTTP: "1" },
  });
  await rejects(update(g.ctx, {}, deps), /could not download http:\/\/127\.0\.0\.1:9/);
  assertEquals(await installed(f), "#!/bin/sh\necho 0.1.0\n");
});

Deno.test("--release-url wins over VENVOY_RELEASE_URL", async () => {
  const f = await fixture("0.2.0", { env: { VENVOY_RELEASE_URL: "https://127.0.0.1:9/x" } });
  const releaseUrl = join(f.dir, "release");
  await update(f.ctx, { releaseUrl }, { current: "0.1.0", self: f.self, target: TARGET });
  assertEquals(await installed(f), "#!/bin/sh\necho 0.2.0\n");
});

Deno.test("update refuses a release whose binary does not say its version", async () => {
  const f = await fixture("0.2.0", { body: prog("0.1.5") });
  try {
    await rejects(
      update(f.ctx, {}, { current: "0.1.0", self: f.self, target: TARGET }),
      /did not answer --version with 0\.2\.0/,
    );
    assertEquals(await installed(f), "#!/bin/sh\necho 0.1.0\n");
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("update from the source tree says how to update instead", async () => {
  const f = await fixture("0.2.0");
  try {
    await rejects(
      update(f.ctx, {}, { current: "0.1.0", self: null, target: TARGET }),
      (e: Error & { hint?: string }) =>
        /runs from its source tree/.test(e.message) && /git/.test(e.hint ?? ""),
    );
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("update: a release folder without a version is a clear error", async () => {
  const f = await fixture("0.2.0");
  try {
    // Even before its checksum is checked, VERSION must hold a version.
    await Deno.writeTextFile(join(f.dir, "release", "VERSION"), "<html>404</html>");
    await rejects(
      update(f.ctx, {}, { current: "0.1.0", self: f.self, target: TARGET }),
      /VERSION does not hold a version: '<html>404<\/html>'/,
    );
    assert((await installed(f)).includes("0.1.0"));
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});
