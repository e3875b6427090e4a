import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { captureSnapshot } from "../../../src/snapshot/autosave.ts";
import { catchUpSnapshot } from "../../../src/snapshot/catch_up.ts";
import { listSnapshots } from "../../../src/snapshot/store.ts";
import {
  packageStamp,
  SETTLE_MS,
  STAMP_RECORD,
  unchangedSinceSaved,
} from "../../../src/snapshot/quick.ts";
import { tempDir } from "../../fakes/tmp.ts";

/** A Python environment with an empty site-packages, no history yet; removed after the module. */
async function setup() {
  const root = await tempDir("venvoy-catchup-");
  const env = {
    name: "demo",
    dir: join(root, "env"),
    config: { name: "demo", runtime: "python", python_version: "3.11" },
  };
  const projects = join(root, "projects");
  const projectDir = join(projects, "demo");
  const site = join(env.dir, "persist/python/lib/python3.11/site-packages");
  await Deno.mkdir(site, { recursive: true });
  const firstSnapshot = () =>
    captureSnapshot({
      envDir: env.dir,
      projectDir,
      name: "demo",
      meta: { runtime: "python", pythonVersion: "3.11" },
    });
  return { env, projects, projectDir, site, firstSnapshot };
}

Deno.test("catchUpSnapshot: none without history, none when unchanged, one after a change", async () => {
  const { env, projects, projectDir, site, firstSnapshot } = await setup();
  // No history yet: init, import or a session starts it, not a read.
  assertEquals(await catchUpSnapshot(env, projects), null);
  assertEquals(await listSnapshots(projectDir), []);

  await firstSnapshot();
  assertEquals(await catchUpSnapshot(env, projects), null, "unchanged");

  await Deno.mkdir(join(site, "numpy-2.1.0.dist-info"));
  const r = await catchUpSnapshot(env, projects);
  assert(r?.written, "the change is recorded");
  assertEquals((await listSnapshots(projectDir)).length, 2);
  assertEquals(await catchUpSnapshot(env, projects), null, "and only once");
});

Deno.test("catchUpSnapshot: a settled state found saved records the stamp; a change after it is still caught", async () => {
  const { env, projects, projectDir, site, firstSnapshot } = await setup();
  await firstSnapshot();
  await new Promise((r) => setTimeout(r, SETTLE_MS + 200));
  assertEquals(await catchUpSnapshot(env, projects), null, "unchanged");
  const stamp = join(env.dir, STAMP_RECORD);
  assertEquals(await Deno.readTextFile(stamp), packageStamp(env.dir, projectDir).text);
  assert(unchangedSinceSaved(env.dir, projectDir), "the next command's check skips");

  await Deno.mkdir(join(site, "numpy-2.1.0.dist-info"));
  assert(!unchangedSinceSaved(env.dir, projectDir), "the stamp no longer matches");
  const r = await catchUpSnapshot(env, projects);
  assert(r?.written, "the change is recorded despite the stamp");
  assertEquals((await listSnapshots(projectDir)).length, 2);
});
