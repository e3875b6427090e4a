/**
 * Packages installed while venvoy was not watching (an editor attached to a session that
 * outlived `venvoy run`) become a snapshot at the next venvoy command that reads the
 * environment. No container needed: persist/ is changed on the host, as the session would.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { type EnvConfig, writeConfig } from "../../src/env/config.ts";
import { captureSnapshot } from "../../src/snapshot/autosave.ts";
import { demoHome, venvoy } from "./cli.ts";
import { envConfig } from "../fakes/env_config.ts";

Deno.test("a command that reads the environment first records what changed in persist/", async () => {
  const { root, env, envDir, projectDir, site } = await demoHome("venvoy-it-catchup-");
  try {
    const config: EnvConfig = envConfig();
    await writeConfig(envDir, config);
    const first = await captureSnapshot({
      envDir,
      projectDir,
      name: "demo",
      meta: { runtime: "python", pythonVersion: "3.11" },
    });
    assert(first.written);
    const ids = async () => {
      const r = await venvoy(["history", "--name", "demo", "--json"], { env });
      assertEquals(r.code, 0, r.stderr);
      return { json: JSON.parse(r.stdout), stderr: r.stderr };
    };

    // Nothing changed: reading writes nothing.
    assertEquals((await ids()).json.snapshots.length, 1);

    // The editor session installs requests; venvoy did not see it happen.
    await Deno.mkdir(join(site, "requests-2.32.3.dist-info"));
    const after = await ids();
    assert(after.stderr.includes("recorded snapshot"), after.stderr);
    assertEquals(after.json.snapshots.length, 2);
    assertEquals(after.json.snapshots[0].changes.python.added, [
      { name: "requests", version: "2.32.3" },
    ]);
    assertEquals((await ids()).json.snapshots.length, 2, "once only");

    // Any command that loads the environment does it, not only history.
    await Deno.remove(join(site, "requests-2.32.3.dist-info"));
    const pm = await venvoy(["package-managers", "--name", "demo"], { env });
    assertEquals(pm.code, 0, pm.stderr);
    const last = await ids();
    assertEquals(last.json.snapshots.length, 3);
    assertEquals(last.json.snapshots[0].changes.python.removed, [
      { name: "requests", version: "2.32.3" },
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
