import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DenoRunner } from "../../../src/process/mod.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { update } from "../../../src/commands/update_action.ts";
import type { CommandContext } from "../../../src/commands/context.ts";
import { formatSha256Sums, sha256Hex } from "../../../src/release/sha256sums.ts";
import { tempDir } from "../../fakes/tmp.ts";

const enc = new TextEncoder();
const TARGET = "x86_64-unknown-linux-gnu";
const ASSET = `venvoy-${TARGET}`;
const prog = (version: string) => enc.encode(`#!/bin/sh\necho ${version}\n`);

interface Fixture {
  dir: string;
  self: string;
  ctx: CommandContext;
}

/** A release folder (file://) holding `version`, and an installed venvoy saying 0.1.0. */
async function fixture(
  version: string,
  options: { body?: Uint8Array; listed?: Uint8Array } = {},
): Promise<Fixture> {
  const dir = await tempDir("venvoy-update-");
  const rel = join(dir, "release");
  await Deno.mkdir(rel);
  const body = options.body ?? prog(version);
  await Deno.writeFile(join(rel, ASSET), body);
  await Deno.writeTextFile(join(rel, "VERSION"), `${version}\n`);
  await Deno.writeTextFile(
    join(rel, "SHA256SUMS"),
    formatSha256Sums({ [ASSET]: await sha256Hex(options.listed ?? body) }),
  );
  const self = join(dir, "bin", "venvoy");
  await Deno.mkdir(join(dir, "bin"));
  await Deno.writeFile(self, prog("0.1.0"), { mode: 0o755 });
  const env = { HOME: dir, VENVOY_RELEASE_URL: pathToFileURL(rel).href };
  return {
    dir,
    self,
    ctx: {
      runner: new DenoRunner({ env }),
      engine: null,
      debug: false,
      paths: statePaths((n) => env[n as keyof typeof env]),
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
