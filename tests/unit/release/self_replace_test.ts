import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DenoRunner } from "../../../src/process/mod.ts";
import { replaceExecutable, selfPath } from "../../../src/release/self_replace.ts";
import { tempDir } from "../../fakes/tmp.ts";

const enc = new TextEncoder();
const script = (body: string) => enc.encode(`#!/bin/sh\n${body}\n`);

async function setup(): Promise<{ dir: string; target: string }> {
  const dir = await tempDir("venvoy-replace-");
  const target = join(dir, "venvoy");
  await Deno.writeFile(target, script("echo 0.1.0"), { mode: 0o755 });
  return { dir, target };
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

const runner = new DenoRunner();

for (const os of ["posix", "windows"] as const) {
  Deno.test(`replaceExecutable (${os} steps) puts the new program in place and cleans up`, async () => {
    const { dir, target } = await setup();
    try {
      const path = await replaceExecutable(target, script("echo 0.2.0"), {
        runner,
        expectVersion: "0.2.0",
        os,
      });
      assertEquals(path, await Deno.realPath(target));
      assertEquals(await Deno.readTextFile(target), "#!/bin/sh\necho 0.2.0\n");
      assertEquals((await Deno.stat(target)).mode! & 0o777, 0o755);
      assertEquals(await names(dir), ["venvoy"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("replaceExecutable refuses a program that does not answer the expected version", async () => {
  for (const body of ["echo 0.1.9", "echo 0.2.0; exit 3", "exit 0", "echo 'garbage' >&2; exit 1"]) {
    const { dir, target } = await setup();
    try {
      await rejects(
        replaceExecutable(target, script(body), { runner, expectVersion: "0.2.0" }),
        (e: Error & { hint?: string }) =>
          /did not answer --version with 0\.2\.0/.test(e.message) &&
          /nothing was changed/.test(e.hint ?? ""),
        body,
      );
      assertEquals(await Deno.readTextFile(target), "#!/bin/sh\necho 0.1.0\n", body);
      assertEquals(await names(dir), ["venvoy"], body);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("replaceExecutable refuses bytes that are not a program at all", async () => {
  const { dir, target } = await setup();
  try {
    await rejects(
      replaceExecutable(target, enc.encode("\x7fELF but not really"), {
        runner,
        expectVersion: "0.2.0",
      }),
      /new venvoy/,
    );
    assertEquals(await names(dir), ["venvoy"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replaceExecutable puts the old program back when the new one fails in its place", async () => {
  const { dir, target } = await setup();
  try {
    // Answers while staged (.venvoy.new-…), fails once renamed to venvoy.
    const fickle = script('case "$0" in *.new-*) echo 0.2.0 ;; *) exit 1 ;; esac');
    await rejects(replaceExecutable(target, fickle, { runner, expectVersion: "0.2.0" }));
    assertEquals(await Deno.readTextFile(target), "#!/bin/sh\necho 0.1.0\n");
    assertEquals(await names(dir), ["venvoy"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replaceExecutable follows a link and replaces the file behind it", async () => {
  const { dir, target } = await setup();
  try {
    const link = join(dir, "link-venvoy");
    await Deno.symlink(target, link);
    await replaceExecutable(link, script("echo 0.2.0"), { runner, expectVersion: "0.2.0" });
    assert((await Deno.lstat(link)).isSymlink);
    assertEquals(await Deno.readTextFile(target), "#!/bin/sh\necho 0.2.0\n");
    assertEquals(await names(dir), ["link-venvoy", "venvoy"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("selfPath: the compiled binary, the bundle file, or null from source", async () => {
  const { dir, target } = await setup();
  try {
    const link = join(dir, "venvoy-link");
    await Deno.symlink(target, link);
    const real = await Deno.realPath(target);
    assertEquals(
      selfPath({ standalone: true, execPath: link, mainModule: "file:///x/main.ts" }),
      real,
    );
    assertEquals(
      selfPath({
        standalone: false,
        execPath: "/usr/bin/deno",
        mainModule: pathToFileURL(link).href,
      }),
      real,
    );
    assertEquals(
      selfPath({ standalone: false, execPath: "/usr/bin/deno", mainModule: "file:///src/main.ts" }),
      null,
    );
    assertEquals(
      selfPath({ standalone: false, execPath: "/usr/bin/deno", mainModule: "https://x/main.ts" }),
      null,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
