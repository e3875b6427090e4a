/**
 * The auto-save's shortcut for sessions that change nothing (snapshot/quick.ts): a recorded
 * stamp skips the final look only while nothing that holds packages changed.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import {
  packageStamp,
  SETTLE_MS,
  STAMP_RECORD,
  unchangedSinceSaved,
} from "../../../src/snapshot/quick.ts";
import { listSnapshots, loadSnapshot } from "../../../src/snapshot/store.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { shortSessionAutoSave } from "./helpers.ts";
import { type EnvConfig, writeConfig } from "../../../src/env/config.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { runEnv } from "../../../src/session/run.ts";
import {
  startSessionAutoSave,
  unchangedSinceSaved as savedUnchanged,
} from "../../../src/snapshot/env_hooks.ts";
import { envConfig } from "../../fakes/env_config.ts";

const SITE = "persist/python/lib/python3.11/site-packages";
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS + 200));

async function setup() {
  const root = await tempDir("venvoy-quick-"); // removed after the module (fakes/tmp.ts)
  const envDir = join(root, "state", "environments", "demo");
  const projectDir = join(root, "projects", "demo");
  await Deno.mkdir(join(envDir, SITE, "pip-23.0.1.dist-info"), { recursive: true });
  await Deno.writeTextFile(
    join(envDir, "base-packages.json"),
    JSON.stringify({ python: [{ name: "pip", version: "23.0.1" }], r: [], conda: [] }),
  );
  return { root, envDir, projectDir };
}

/** One session's auto-save that ends at once (only the final look). */
async function look(envDir: string, projectDir: string) {
  await shortSessionAutoSave(envDir, projectDir).stop();
}

const recorded = async (envDir: string) =>
  await Deno.readTextFile(join(envDir, STAMP_RECORD)).catch(() => null);

Deno.test("quick: a look that finds the state saved records its stamp; the next check skips", async () => {
  const { envDir, projectDir } = await setup();
  await look(envDir, projectDir); // writes the first snapshot: the store just changed
  assertEquals(await recorded(envDir), null, "nothing recorded while the store is changing");
  await settle();
  await look(envDir, projectDir); // finds it saved, settled: recorded
  assertEquals(await recorded(envDir), packageStamp(envDir, projectDir).text);
  assert.ok(unchangedSinceSaved(envDir, projectDir));
  assertEquals((await listSnapshots(projectDir)).length, 1);
});

Deno.test("quick: a change within the settle time of the look is never recorded (racy)", async () => {
  const { envDir, projectDir } = await setup();
  await look(envDir, projectDir);
  await settle();
  // A package appears just before the look: its folder's times are too new to trust.
  await Deno.mkdir(join(envDir, SITE, "rich-13.7.1.dist-info"));
  await look(envDir, projectDir); // writes the snapshot of rich
  await look(envDir, projectDir); // finds it saved, but within SETTLE_MS: not recorded
  assertEquals(await recorded(envDir), null);
  assert.ok(!(unchangedSinceSaved(envDir, projectDir)));
});

Deno.test("attack: installs, removals, replacements and store changes all defeat the stamp", async (t) => {
  const cases: [string, (envDir: string, projectDir: string) => Promise<void>][] = [
    ["a package installed", (e) => Deno.mkdir(join(e, SITE, "numpy-2.0.0.dist-info"))],
    ["a package removed", (e) => Deno.remove(join(e, SITE, "pip-23.0.1.dist-info"))],
    ["an R package replaced in place", async (e) => {
      await Deno.remove(join(e, "persist/R/library/cli"), { recursive: true });
      await Deno.mkdir(join(e, "persist/R/library/cli"));
    }],
    ["a conda environment appears", (e) =>
      Deno.mkdir(join(e, "persist/conda/conda-meta"), {
        recursive: true,
      })],
    ["base-packages.json rewritten", (e) =>
      Deno.writeTextFile(
        join(e, "base-packages.json"),
        JSON.stringify({ python: [{ name: "pip", version: "24.0" }], r: [], conda: [] }),
      )],
    ["the latest snapshot removed", async (_e, p) => {
      const [latest] = await listSnapshots(p);
      await Deno.remove(latest.yml);
    }],
  ];
  // One environment, settled once, for all cases: each case starts from a recorded stamp.
  const { envDir, projectDir } = await setup();
  await Deno.mkdir(join(envDir, "persist/R/library/cli"), { recursive: true });
  await Deno.writeTextFile(
    join(envDir, "persist/R/library/cli/DESCRIPTION"),
    "Package: cli\nVersion: 3.6.1\n",
  );
  await look(envDir, projectDir);
  await settle();
  for (const [what, change] of cases) {
    await t.step(what, async () => {
      await look(envDir, projectDir);
      if (!(unchangedSinceSaved(envDir, projectDir))) {
        await settle(); // the previous case's snapshot settles, then is recorded
        await look(envDir, projectDir);
      }
      assert.ok(unchangedSinceSaved(envDir, projectDir), "recorded before the change");
      await change(envDir, projectDir);
      assert.ok(!(unchangedSinceSaved(envDir, projectDir)), `${what}: not seen`);
    });
  }
});

Deno.test("attack: a short session that installs a package after a recorded stamp is saved", async () => {
  const { root, envDir, projectDir } = await setup();
  const paths = statePaths((n) =>
    ({
      HOME: join(root, "home"),
      VENVOY_HOME: join(root, "state"),
      VENVOY_PROJECTS: join(root, "projects"),
    } as Record<string, string>)[n]
  );
  assertEquals(join(paths.environments, "demo"), envDir);
  assertEquals(join(paths.projects, "demo"), projectDir);
  const cfg: EnvConfig = envConfig();
  await writeConfig(envDir, cfg);
  await look(envDir, projectDir);
  await settle();
  await look(envDir, projectDir);
  assert.ok(unchangedSinceSaved(envDir, projectDir));
  let install = false;
  const runner = new RecordingRunner({ paths: { podman: "/usr/bin/podman" } }).on(
    ["/usr/bin/podman", "run"],
    () => {
      // What `pip install` in the container does to persist/.
      if (install) Deno.mkdirSync(join(envDir, SITE, "requests-2.32.3.dist-info"));
      return { code: 0 };
    },
  );
  const cwd = join(root, "work");
  await Deno.mkdir(cwd);
  const ctx = {
    runner,
    paths,
    engine: null,
    cwd,
    note: () => {},
    terminal: { stdin: false, stdout: false },
    stdinData: false,
    user: { uid: 1000, gid: 100 },
    autoSaver: startSessionAutoSave,
    savedUnchanged,
  };
  const before = await listSnapshots(projectDir);
  await runEnv(ctx, { name: "demo", command: "true" });
  assertEquals(await listSnapshots(projectDir), before, "nothing changed: nothing written");
  install = true;
  await runEnv(ctx, { name: "demo", command: "pip install requests" });
  const [latest] = await listSnapshots(projectDir);
  assertEquals(
    (await loadSnapshot(latest)).state.python.map((p) => p.name).sort(),
    ["pip", "requests"],
  );
});
