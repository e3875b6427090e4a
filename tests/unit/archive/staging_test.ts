import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { makeOwnedTempDir, removeStaleTempDirs } from "../../../src/archive/staging.ts";
import { tempDir } from "../../fakes/tmp.ts";

const STAGING = new URL("../../../src/archive/staging.ts", import.meta.url).href;
const DAY = 24 * 60 * 60 * 1000;

const exists = (p: string) => Deno.lstat(p).then(() => true, () => false);

async function age(path: string, ms: number) {
  const t = new Date(Date.now() - ms);
  await Deno.utime(path, t, t);
}

/** A child venvoy process holding an owned temp folder until it is signalled or killed. */
function holder(parent: string) {
  const script = `
    import { makeOwnedTempDir, throwIfSignalled } from ${JSON.stringify(STAGING)};
    const owned = await makeOwnedTempDir(Deno.args[0], ".venvoy-import-");
    await Deno.mkdir(owned.dir + "/root");
    await Deno.writeTextFile(owned.dir + "/root/big", "x".repeat(1024));
    console.log(owned.dir);
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      throwIfSignalled();
    }
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script, parent],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const dir = (async () => {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    return text.trim();
  })();
  return { child, dir };
}

Deno.test("issue 11.13: the sweep removes venvoy's stale temp folders, and nothing else", async () => {
  const parent = await tempDir("venvoy-sweep-");
  try {
    const mk = async (name: string, old: boolean) => {
      await Deno.mkdir(join(parent, name, "root"), { recursive: true });
      await Deno.writeTextFile(join(parent, name, "root", "f"), "x");
      if (old) {
        await age(join(parent, name, "root"), 2 * DAY);
        await age(join(parent, name), 2 * DAY);
      }
    };
    await mk(".venvoy-import-old1", true); // a killed import of an older venvoy: no lock file
    await mk(".venvoy-export-old2", true);
    await mk(".demo.importing-old3", true);
    await mk(".venvoy-import-fresh", false); // perhaps an import running right now
    await mk(".unrelated", true);
    await mk("user-data", true);
    await Deno.mkdir(join(parent, "demo"));
    await Deno.writeTextFile(join(parent, "demo", "config.yaml"), "name: demo\n");
    await mk(".demo.replaced-0123abcd", true); // its replacement is in place: debris
    await mk(".gone.replaced-0123abcd", true); // no replacement: the only copy, kept
    await Deno.mkdir(join(parent, "elsewhere"));
    await Deno.symlink(join(parent, "elsewhere"), join(parent, ".venvoy-import-link"));
    const mine = await makeOwnedTempDir(parent, ".venvoy-import-"); // live in this process
    await age(mine.dir, 2 * DAY);

    const removed = (await removeStaleTempDirs([parent])).map((p) => p.slice(parent.length + 1));
    assertEquals(removed.sort(), [
      ".demo.importing-old3",
      ".demo.replaced-0123abcd",
      ".venvoy-export-old2",
      ".venvoy-import-old1",
    ]);
    for (
      const kept of [".venvoy-import-fresh", ".unrelated", "user-data", ".gone.replaced-0123abcd"]
    ) {
      assert(await exists(join(parent, kept)), `${kept} is kept`);
    }
    assert(await exists(join(parent, "elsewhere")), "a link is never followed");
    assert(await exists(join(parent, ".venvoy-import-link")), "nor removed");
    assert(await exists(mine.dir), "a live folder is kept");
    await mine.release();
    assert(!(await exists(mine.dir)));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("issue 11.13: a folder locked by a running import is kept; once its process is killed, it goes", async () => {
  const parent = await tempDir("venvoy-sweep-");
  const { child, dir } = holder(parent);
  try {
    const path = await dir;
    assert(path.startsWith(parent), path);
    await age(path, 2 * DAY); // old, but locked
    assertEquals(await removeStaleTempDirs([parent]), []);
    assert(await exists(path));
    child.kill("SIGKILL"); // no cleanup can run: the kernel drops the lock
    await child.status;
    assertEquals(await removeStaleTempDirs([parent]), [path]);
    assert(!(await exists(path)));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
    await child.stderr.cancel().catch(() => {});
    await child.stdout.cancel().catch(() => {});
    await Deno.remove(parent, { recursive: true });
  }
});

for (const sig of ["SIGHUP", "SIGTERM", "SIGINT"] as const) {
  Deno.test(`issue 11.13: ${sig} removes the temp folder and ends the process`, async () => {
    const parent = await tempDir("venvoy-sig-");
    const { child, dir } = holder(parent);
    try {
      const path = await dir;
      assert(await exists(join(path, "root", "big")));
      child.kill(sig);
      const status = await child.status;
      assert(!status.success, "the process ends with a failure status");
      assert(!(await exists(path)), `${sig} left ${path} behind`);
      assertEquals([...Deno.readDirSync(parent)], []);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      await child.stderr.cancel().catch(() => {});
      await child.stdout.cancel().catch(() => {});
      await Deno.remove(parent, { recursive: true });
    }
  });
}

Deno.test("issue 11.13: an export starts by sweeping stale folders beside its output and environments", async () => {
  const { exportArchive } = await import("../../../src/archive/export.ts");
  const { PodmanRuntime } = await import("../../../src/runtime/podman.ts");
  const { RecordingRunner } = await import("../../fakes/runner.ts");
  const root = await tempDir("venvoy-sweep-export-");
  try {
    const envs = join(root, "environments");
    const envDir = join(envs, "demo");
    const out = join(root, "out");
    await Deno.mkdir(join(envDir, "persist"), { recursive: true });
    await Deno.mkdir(out);
    const id = "sha256:" + "ab".repeat(32);
    await Deno.writeTextFile(
      join(envDir, "config.yaml"),
      `name: demo\nruntime: python\nengine: podman\nimage: localhost/venvoy/demo:latest\nimage_id: ${id}\n`,
    );
    const stale = [join(out, ".venvoy-export-killed"), join(envs, ".venvoy-import-killed")];
    for (const d of stale) {
      await Deno.mkdir(join(d, "root"), { recursive: true });
      await age(join(d, "root"), 2 * DAY);
      await age(d, 2 * DAY);
    }
    const runner = new RecordingRunner();
    runner.on(["podman", "image", "inspect"], {
      stdout: JSON.stringify([{ Id: id.slice(7), Architecture: "amd64", Os: "linux" }]),
    });
    runner.on(["podman", "save", "--format", "docker-archive", "localhost/venvoy/demo:latest"], {});
    await exportArchive({
      runner,
      runtime: new PodmanRuntime(runner, "podman", { rootless: false }),
      envDir,
      output: join(out, "demo.tar.gz"),
      venvoyVersion: "0.0.0-test",
    });
    for (const d of stale) assert(!(await exists(d)), `${d} was swept`);
    assertEquals([...Deno.readDirSync(out)].map((e) => e.name), ["demo.tar.gz"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
